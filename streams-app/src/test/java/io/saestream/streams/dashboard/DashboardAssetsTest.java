package io.saestream.streams.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.streams.http.StaticAssets;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the dashboard serves, with which content type, and every path it refuses. */
class DashboardAssetsTest {

  @ParameterizedTest
  @ValueSource(strings = {"", "index.html", "static/index.html"})
  void thePageIsServedAsHtml(String path) {
    StaticAssets.Asset page = DashboardAssets.resolve(path).orElseThrow();

    assertThat(page.contentType()).isEqualTo("text/html; charset=utf-8");
    assertThat(new String(page.body(), StandardCharsets.UTF_8))
        .contains("<title>sae-stream</title>")
        .contains("id=\"tokens-per-s\"")
        .contains("id=\"alerts-list\"")
        .contains("id=\"top-latents\"");
  }

  @Test
  void scriptsAndStylesHaveTheirContentTypes() {
    assertThat(DashboardAssets.resolve("static/js/main.js"))
        .get()
        .extracting(StaticAssets.Asset::contentType)
        .isEqualTo("text/javascript; charset=utf-8");
    assertThat(DashboardAssets.resolve("static/dashboard.css"))
        .get()
        .extracting(StaticAssets.Asset::contentType)
        .isEqualTo("text/css; charset=utf-8");
  }

  @Test
  void theChartLibraryComesFromItsWebjar() {
    StaticAssets.Asset module = DashboardAssets.resolve("static/vendor/uPlot.esm.js").orElseThrow();
    StaticAssets.Asset css = DashboardAssets.resolve("static/vendor/uPlot.min.css").orElseThrow();

    assertThat(module.contentType()).isEqualTo("text/javascript; charset=utf-8");
    assertThat(new String(module.body(), StandardCharsets.UTF_8))
        .contains("export { uPlot as default }");
    assertThat(css.contentType()).isEqualTo("text/css; charset=utf-8");
    assertThat(DashboardAssets.resourceName("static/vendor/uPlot.esm.js"))
        .startsWith("META-INF/resources/webjars/uplot/")
        .endsWith("/dist/uPlot.esm.js");
  }

  @Test
  void everyModuleThePageImportsResolves() {
    String main =
        new String(
            DashboardAssets.resolve("static/js/main.js").orElseThrow().body(),
            StandardCharsets.UTF_8);
    java.util.regex.Matcher imports =
        java.util.regex.Pattern.compile("from \"\\./([a-z-]+\\.js)\"").matcher(main);
    int found = 0;
    while (imports.find()) {
      assertThat(DashboardAssets.resolve("static/js/" + imports.group(1)))
          .as("module %s", imports.group(1))
          .isPresent();
      found++;
    }
    assertThat(found).as("main.js imports its sibling modules").isPositive();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "static/../io/saestream/streams/dashboard/index.html",
        "static/js/../../index.html",
        "static/./index.html",
        "static/..",
        "../index.html",
        "/index.html",
        "/static/js/main.js",
        "static//js/main.js",
        "static/js/",
        "static/",
        "static",
        "static/.hidden.js",
        "static\\js\\main.js",
        "static/js/main.js%00.css",
        "static/%2e%2e/index.html",
        "static/DashboardAssets.class",
        "static/js",
        "static/vendor/LICENSE",
        "static/vendor/README.md",
        "static/vendor/../../../../../../io/saestream/streams/dashboard/index.html",
        "META-INF/MANIFEST.MF",
        "io/saestream/streams/dashboard/index.html",
        "index.htm",
        "api/v1/overview",
        "static/js/main.js?x=1",
        "static/nothing-here.js",
        "file:///etc/passwd",
        "static/C:/windows.js"
      })
  void pathsOutsideTheDashboardResolveToNothing(String path) {
    assertThat(DashboardAssets.resolve(path)).as(path).isEqualTo(Optional.empty());
  }

  @Test
  void anOverlongPathResolvesToNothing() {
    assertThat(DashboardAssets.resolve("static/" + "a".repeat(300) + ".js")).isEmpty();
    assertThat(DashboardAssets.resolve("static/a/b/c/d/e/f/g/h/i.js")).isEmpty();
  }

  @Test
  void assetsCannotBeChangedThroughTheirBytes() {
    StaticAssets.Asset page = DashboardAssets.resolve("").orElseThrow();
    byte[] body = page.body();
    body[0] = 0;

    assertThat(DashboardAssets.resolve("").orElseThrow().body()[0]).isEqualTo((byte) '<');
    assertThat(page).isEqualTo(DashboardAssets.resolve("index.html").orElseThrow());
    assertThat(page.length()).isEqualTo(body.length);
  }

  @Test
  void anAssetNeedsAContentType() {
    assertThatThrownBy(() -> new StaticAssets.Asset(new byte[0], " "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("contentType must not be blank");
  }
}
