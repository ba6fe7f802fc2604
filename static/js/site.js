// Small improvements on pages that work without JavaScript. Loaded from this site only (CSP: script-src 'self').
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // A form with errors: move focus to its summary, so that screen readers announce it and keyboard users start there.
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // Search filters apply as they change; the search button remains for typed text and for browsers without this.
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    form.addEventListener("change", (event) => {
      if (event.target.matches("select, input[type=checkbox], input[type=radio]")) form.requestSubmit();
    });
  }
});
