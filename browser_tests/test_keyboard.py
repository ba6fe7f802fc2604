"""Keyboard only: from the home page to a supporter's phone number, and form errors that lead to their fields.

Every stop on the way must show where the focus is: the element looks different with the focus than without it. The
look is read with the focus, then with the element blurred (so that no neighbour has the focus instead), from what
can be seen: a visible outline, a box-shadow, the background and a visible border of the element, of its ::before and
::after, of its descendants (the county map colours its shapes) and of its nearest ancestors (Designsystemet rings a
checkbox's whole field), and the element's size (the skip link appears). A change of text colour or underline alone
does not count.
"""

import re

from playwright.sync_api import expect

from browser_tests.conftest import submit

# How an element and its surroundings look, once any transition into or out of focus has finished.
FOCUS_LOOK = r"""async (element) => {
  await Promise.all(element.getAnimations({subtree: true}).map((animation) => animation.finished.catch(() => null)));
  const transparent = (colour) => colour === "transparent" || /^rgba\(.*,\s*0\)$/.test(colour);
  const look = (node, pseudo) => {
    const style = getComputedStyle(node, pseudo);
    const { outlineStyle, outlineWidth, outlineColor, outlineOffset } = style;
    const seen = outlineStyle !== "none" && parseFloat(outlineWidth) > 0 && !transparent(outlineColor);
    const outline = seen ? [outlineStyle, outlineWidth, outlineColor, outlineOffset].join(" ") : "none";
    const border = style.borderStyle.split(" ").every((side) => side === "none" || side === "hidden")
      ? "none" : [style.borderStyle, style.borderWidth, style.borderColor].join(" ");
    const shape = node instanceof SVGElement ? [style.fill, style.stroke, style.strokeWidth].join(" ") : "";
    return [outline, style.boxShadow, style.backgroundColor, border, shape].join(" ");
  };
  const ancestors = [];
  for (let node = element.parentElement; node && ancestors.length < 3; node = node.parentElement) ancestors.push(node);
  const nodes = [...ancestors, element, ...[...element.querySelectorAll("*")].slice(0, 50)];
  const box = element.getBoundingClientRect();
  return {
    look: nodes.flatMap((node) => [look(node, null), look(node, "::before"), look(node, "::after")]).join(" | "),
    size: [Math.round(box.width), Math.round(box.height)],
  };
}"""

DESCRIBE = """(element) => element.outerHTML.slice(0, 160)"""


class KeyboardUser:
    def __init__(self, page):
        self.page = page

    def focused(self):
        return self.page.evaluate_handle("() => document.activeElement")

    def tab(self):
        """Press Tab, and check that the element reached shows that it has the focus."""
        self.page.keyboard.press("Tab")
        element = self.focused()
        description = element.evaluate(DESCRIBE)
        with_focus = element.evaluate(FOCUS_LOOK)
        assert min(with_focus["size"]) > 1, f"{description} has the focus but cannot be seen"
        element.evaluate("(element) => element.blur()")
        without_focus = element.evaluate(FOCUS_LOOK)
        # Back to the element as a keyboard user would come to it: on to the next stop, and back.
        self.page.keyboard.press("Tab")
        self.page.keyboard.press("Shift+Tab")
        assert self.focused().evaluate("(element, before) => element === before", element), (
            f"Tab, Shift+Tab did not come back to {description}"
        )
        assert with_focus != without_focus, f"{description} shows no focus indicator: it looks the same without focus"
        return element

    def tab_to(self, matches, what, limit=150):
        """Tab until the focused element satisfies the JavaScript predicate matches."""
        for _ in range(limit):
            element = self.tab()
            if element.evaluate(matches):
                return element
        raise AssertionError(f"{what} not reached in {limit} presses of Tab")

    def skip_to_main(self):
        """The first Tab stop of a page is the skip link, and Enter on it moves the focus to the main content."""
        skip_link = self.tab()
        assert skip_link.evaluate("(element) => element.matches('a[href=\"#main\"]')"), (
            f"the first Tab stop is not the skip link but {skip_link.evaluate(DESCRIBE)}"
        )
        self.page.keyboard.press("Enter")
        expect(self.page.locator("main")).to_be_focused()


def test_a_doctor_reaches_a_phone_number_with_the_keyboard_alone(doctor, roster):
    page = doctor.page
    per = roster["per"]
    keyboard = KeyboardUser(page)
    page.goto("/en/")

    keyboard.skip_to_main()
    keyboard.tab_to("(element) => element.type === 'submit' && !!element.closest('[role=search], search')", "Search")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/en/search/"))

    keyboard.skip_to_main()
    keyboard.tab_to(f"(element) => element.matches('a[href$=\"/en/supporters/{per.pk}/\"]')", "Per Psykiater's link")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/en/supporters/{per.pk}/$"))

    keyboard.skip_to_main()
    phone = keyboard.tab_to("(element) => element.matches('a[href^=\"tel:\"]')", "the phone number")
    assert phone.evaluate("(element) => element.getAttribute('href')") == "tel:+4791234567"
    assert "91 23 45 67" in phone.inner_text()

    doctor.assert_left_no_trace()
    doctor.assert_stayed_local()


def test_form_errors_are_announced_and_lead_to_their_fields(visitors, supporter_account):
    page = visitors().page
    keyboard = KeyboardUser(page)
    page.goto("/en/accounts/login/")

    # The page opens in the e-mail field.
    expect(page.locator("input[name=username]")).to_be_focused()
    page.keyboard.type(supporter_account.email)
    keyboard.tab_to("(element) => element.name === 'password'", "the password field")
    # Enter in the empty password field sends the form.
    submit(page, lambda: page.keyboard.press("Enter"))

    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    # The page opens on the summary, so that a screen reader reads it out first.
    expect(summary).to_be_focused()
    link = summary.get_by_role("link", name=re.compile("Password"))
    expect(link).to_have_attribute("href", "#id_password")
    keyboard.tab_to("(element) => element.getAttribute('href') === '#id_password'", "the error's link")
    page.keyboard.press("Enter")

    password = page.locator("#id_password")
    expect(password).to_be_focused()
    expect(password).to_have_attribute("aria-invalid", "true")
    # The field's own error message is part of its description.
    described_by = password.get_attribute("aria-describedby").split()
    messages = " ".join(page.locator(f"#{ident}").inner_text() for ident in described_by)
    assert "required" in messages.lower()
