"""The search page in headless Chromium (Debian's chromium and chromium-driver), served by uvicorn."""

import shutil
import socket
import threading
import time

import pytest

from fusion_tf.serve.app import create_app

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="no chromium or chromedriver on PATH: apt-get install chromium chromium-driver "
        "(.ci/run does so when run as root)",
    ),
]
TIMEOUT_SECONDS = 30


@pytest.fixture(scope="module")
def server_url(search_service):
    """The app on a free loopback port, served by uvicorn in a thread, as a user would reach it."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(search_service), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(TIMEOUT_SECONDS)


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # --no-sandbox: Chromium refuses to start its sandbox as root, which CI containers are.
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1000,800")
    # The driver is given, so Selenium Manager never looks for (or downloads) one.
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    driver.set_page_load_timeout(TIMEOUT_SECONDS)
    yield driver
    driver.quit()


def wait_for(driver, condition):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, TIMEOUT_SECONDS).until(condition)


def test_type_a_query_upload_a_photo_and_a_bad_file(browser, server_url, gallery_dir, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(server_url)
    assert "Type what a photo shows" in browser.find_element(By.ID, "empty").text

    query = browser.find_element(By.NAME, "q")
    query.send_keys("red square zebra")
    query.submit()
    wait_for(browser, lambda driver: driver.find_elements(By.CSS_SELECTOR, "#photos img"))
    images = browser.find_elements(By.CSS_SELECTOR, "#photos img")
    assert len(images) == 3
    # Loaded and decoded by the browser, not only present in the markup.
    wait_for(
        browser,
        lambda driver: all(
            driver.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth", image
            )
            for image in driver.find_elements(By.CSS_SELECTOR, "#photos img")
        ),
    )
    assert "zebra" in browser.find_element(By.ID, "out-of-vocabulary").text

    browser.find_element(By.NAME, "photo").send_keys(str(gallery_dir / "red.jpg"))
    browser.find_element(By.ID, "upload").click()
    wait_for(browser, lambda driver: driver.find_elements(By.CSS_SELECTOR, "#captions li"))
    captions = [item.text for item in browser.find_elements(By.CSS_SELECTOR, "#captions li")]
    assert len(captions) == 3 and any("red square" in caption for caption in captions)

    not_a_photo = tmp_path / "notes.txt"
    not_a_photo.write_text("a shopping list, not a photo")
    browser.find_element(By.NAME, "photo").send_keys(str(not_a_photo))
    browser.find_element(By.ID, "upload").click()
    error = wait_for(browser, lambda driver: driver.find_elements(By.ID, "error"))[0]
    assert "notes.txt is not an image the model can read" in error.text

    browser.get(server_url)  # the server keeps serving after the bad upload
    assert browser.find_elements(By.ID, "empty")
