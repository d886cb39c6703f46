// The known_at slider: moving it fills the position field; letting go shows that point.
(function () {
  var slider = document.getElementById("known_at_slider");
  var field = document.getElementById("known_at");
  if (!slider || !field) return;
  slider.addEventListener("input", function () { field.value = slider.value; });
  slider.addEventListener("change", function () { field.form.requestSubmit(); });
})();
