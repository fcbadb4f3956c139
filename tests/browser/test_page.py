"""The page at / of tunelab-serve, in a real headless Chromium (Debian's chromium and
chromium-driver, driven by selenium): a text submitted shows its entities highlighted by type,
or a classifier's probabilities as bars. Run: make test-browser."""

import shutil

import pytest

from tests.helpers import served

pytestmark = pytest.mark.browser
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser():
    if not (shutil.which(CHROMIUM) and shutil.which(DRIVER)):
        pytest.fail("Chromium is not installed: make test-browser installs it (apt-get)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # the network here is closed: no background connections, no sandbox as root
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def submit(browser, url: str, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url + "/")
    wait = WebDriverWait(browser, 60)
    wait.until(lambda d: "labels" in d.find_element(By.ID, "about").text)
    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    browser.find_element(By.ID, "submit").click()
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#results[data-done]")))


def test_the_page_highlights_the_entities_of_a_submitted_text(browser, trained_run, tmp_path):
    from selenium.webdriver.common.by import By

    from tunelab.inference.predictor import Predictor

    model_dir = trained_run[0] / "model"
    text = "anna flew to paris and bob works at acme ."
    expected = Predictor(str(model_dir)).predict([text])[0]["entities"]
    assert expected  # the tiny model finds some, so the page has something to show
    with served(model_dir, tmp_path) as (url, _):
        submit(browser, url, text)
        marks = browser.find_elements(By.CSS_SELECTOR, "#results mark.entity")
        first_text = "return arguments[0].firstChild.textContent"  # the words, not the type tag
        shown = [
            (m.get_attribute("data-type"), browser.execute_script(first_text, m)) for m in marks
        ]
        assert shown == [(e["type"], e["text"]) for e in expected]
        # the same type, the same colour; the legend names every type the model has
        legend = [s.text for s in browser.find_elements(By.CSS_SELECTOR, "#legend span")]
        assert {e["type"] for e in expected} <= set(legend)
        colours = {
            m.get_attribute("data-type"): m.value_of_css_property("background-color") for m in marks
        }
        assert len(set(colours.values())) == len(colours)
        # types, not BIO tags; each score shown on the page, its badge on one line
        about = browser.find_element(By.ID, "about").text
        assert about == "ner model, 3 entity types (7 BIO labels)", about
        assert (
            len({s.value_of_css_property("background-color") for s in legend_spans(browser)}) == 3
        )
        badges = [m.find_element(By.CLASS_NAME, "type") for m in marks]
        for badge, entity in zip(badges, expected, strict=True):
            kind, score = badge.text.split(" ")
            assert kind == entity["type"] and abs(float(score) - entity["score"]) <= 0.005
        assert {b.value_of_css_property("white-space") for b in badges} == {"nowrap"}


def legend_spans(browser):
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CSS_SELECTOR, "#legend span")


def test_the_page_shows_each_label_probability_as_a_bar(browser, classified_run, tmp_path):
    from selenium.webdriver.common.by import By

    from tunelab.inference.predictor import Predictor

    model_dir = classified_run[0] / "model"
    text = "anna flew to paris ."
    expected = Predictor(str(model_dir)).predict([text])[0]
    with served(model_dir, tmp_path) as (url, _):
        submit(browser, url, text)
        rows = browser.find_elements(By.CSS_SELECTOR, "#results .row")
        shown = {
            r.get_attribute("data-label"): r.find_element(By.CLASS_NAME, "pct").text for r in rows
        }
        chosen = browser.find_element(By.CSS_SELECTOR, "#results .row.chosen")
        widths = [r.find_element(By.CLASS_NAME, "bar").size["width"] for r in rows]
    assert shown == {k: f"{100 * p:.1f}%" for k, p in expected["probabilities"].items()}
    assert chosen.get_attribute("data-label") == expected["label"]
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]


def test_the_page_shows_an_explanation_on_request(browser, classified_run, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    from tunelab.inference.predictor import Predictor

    model_dir = classified_run[0] / "model"
    text = "anna flew to paris ."
    (expected,) = Predictor(str(model_dir)).explain([text])
    with served(model_dir, tmp_path) as (url, _):
        browser.get(url + "/")
        wait = WebDriverWait(browser, 60)
        wait.until(lambda d: "labels" in d.find_element(By.ID, "about").text)
        browser.find_element(By.ID, "explain").click()
        box = browser.find_element(By.ID, "text")
        box.clear()
        box.send_keys(text)
        browser.find_element(By.ID, "submit").click()
        wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#results[data-done]")))
        shaded = browser.find_elements(By.CSS_SELECTOR, "#results .why .attribution")
        shown = [(s.text, float(s.get_attribute("data-attribution"))) for s in shaded]
        what = browser.find_element(By.CSS_SELECTOR, "#results .why .what").text
    assert what == f"{expected['label']}:"
    assert [word for word, _ in shown] == [w["word"] for w in expected["words"]]
    for (_, value), word in zip(shown, expected["words"], strict=True):
        assert value == pytest.approx(
            word["attribution"], abs=1e-3 + 0.05 * abs(word["attribution"])
        )
