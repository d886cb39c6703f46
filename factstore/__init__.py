"""factstore: an auditable record of figures from news articles."""
