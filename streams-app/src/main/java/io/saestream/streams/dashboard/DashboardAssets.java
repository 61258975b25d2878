package io.saestream.streams.dashboard;

import io.saestream.streams.http.StaticAssets.Asset;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard's files, served from the class path: {@code ""} and {@code "index.html"} are the
 * page, {@code "static/<path>"} a file under {@value #ROOT}, and {@code "static/vendor/<file>"} a
 * file of the chart library's webjar (uPlot). Nothing else resolves: paths must be relative, made
 * of plain names ({@code [A-Za-z0-9._-]}, not starting with a dot, so no {@code ..}, no hidden
 * files, no encoded or back-slashed tricks), and end in an extension with a known content type, so
 * that neither class files nor directory listings are ever served.
 *
 * <p>Static and thread-safe; files found are read once and kept (the set is fixed by the jar).
 */
public final class DashboardAssets {

  private static final Logger LOG = LoggerFactory.getLogger(DashboardAssets.class);

  /** The class-path folder of the dashboard's own files. */
  public static final String ROOT = "io/saestream/streams/dashboard/";

  /** The URL prefix of the chart library's files. */
  public static final String VENDOR_PREFIX = "static/vendor/";

  private static final String STATIC_PREFIX = "static/";
  private static final String WEBJAR_POM = "META-INF/maven/org.webjars.npm/uplot/pom.properties";
  private static final int MAX_PATH_LENGTH = 256;
  private static final int MAX_DEPTH = 8;
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*");

  private static final Map<String, String> CONTENT_TYPES =
      Map.ofEntries(
          Map.entry("html", "text/html; charset=utf-8"),
          Map.entry("js", "text/javascript; charset=utf-8"),
          Map.entry("mjs", "text/javascript; charset=utf-8"),
          Map.entry("css", "text/css; charset=utf-8"),
          Map.entry("json", "application/json; charset=utf-8"),
          Map.entry("map", "application/json; charset=utf-8"),
          Map.entry("txt", "text/plain; charset=utf-8"),
          Map.entry("svg", "image/svg+xml"),
          Map.entry("png", "image/png"),
          Map.entry("ico", "image/x-icon"),
          Map.entry("woff2", "font/woff2"));

  private static final Map<String, Asset> CACHE = new ConcurrentHashMap<>();

  private DashboardAssets() {}

  /**
   * The file for a request path without its leading slash (and without query or fragment), or empty
   * when there is none or the path is not one the dashboard serves.
   *
   * @throws UncheckedIOException when a file that exists cannot be read
   */
  public static Optional<Asset> resolve(String pathAfterSlash) {
    Objects.requireNonNull(pathAfterSlash, "pathAfterSlash");
    String resource = resourceName(pathAfterSlash);
    if (resource == null) {
      return Optional.empty();
    }
    Asset cached = CACHE.get(resource);
    if (cached != null) {
      return Optional.of(cached);
    }
    Optional<Asset> read = read(resource);
    read.ifPresent(a -> CACHE.putIfAbsent(resource, a));
    return read;
  }

  /** The class-path resource a request path maps to, or null when it maps to none. */
  static @Nullable String resourceName(String path) {
    if (path.isEmpty() || path.equals("index.html")) {
      return ROOT + "index.html";
    }
    if (path.length() > MAX_PATH_LENGTH || !path.startsWith(STATIC_PREFIX)) {
      return null;
    }
    String relative = path.substring(STATIC_PREFIX.length());
    String[] segments = relative.split("/", -1);
    if (segments.length > MAX_DEPTH) {
      return null;
    }
    for (String segment : segments) {
      if (!SEGMENT.matcher(segment).matches()) {
        return null;
      }
    }
    if (contentType(segments[segments.length - 1]) == null) {
      return null;
    }
    if (path.startsWith(VENDOR_PREFIX)) {
      String vendorDir = VendorHolder.DIR;
      return vendorDir == null ? null : vendorDir + path.substring(VENDOR_PREFIX.length());
    }
    return ROOT + relative;
  }

  private static @Nullable String contentType(String fileName) {
    int dot = fileName.lastIndexOf('.');
    if (dot < 0) {
      return null;
    }
    return CONTENT_TYPES.get(fileName.substring(dot + 1).toLowerCase(Locale.ROOT));
  }

  private static Optional<Asset> read(String resource) {
    URL url = DashboardAssets.class.getClassLoader().getResource(resource);
    if (url == null || isDirectory(url)) {
      return Optional.empty();
    }
    String type = contentType(resource.substring(resource.lastIndexOf('/') + 1));
    if (type == null) {
      throw new IllegalStateException("no content type for " + resource);
    }
    try (InputStream in = url.openStream()) {
      return Optional.of(new Asset(in.readAllBytes(), type));
    } catch (IOException e) {
      throw new UncheckedIOException("reading dashboard asset " + resource, e);
    }
  }

  private static boolean isDirectory(URL url) {
    if (url.getProtocol().equals("file")) {
      try {
        return !Files.isRegularFile(Path.of(url.toURI()));
      } catch (URISyntaxException e) {
        throw new IllegalStateException("class-path URL " + url, e);
      }
    }
    // In a jar a directory would have to be named like a served file; the dashboard has none.
    return false;
  }

  /** Where the webjar keeps uPlot's files, read once from the webjar's own metadata. */
  private static final class VendorHolder {
    static final @Nullable String DIR = vendorDir();

    private static @Nullable String vendorDir() {
      try (InputStream in =
          DashboardAssets.class.getClassLoader().getResourceAsStream(WEBJAR_POM)) {
        if (in == null) {
          LOG.warn("The uPlot webjar is not on the class path; the dashboard's charts cannot load");
          return null;
        }
        Properties props = new Properties();
        props.load(in);
        String version = props.getProperty("version");
        return version == null ? null : "META-INF/resources/webjars/uplot/" + version + "/dist/";
      } catch (IOException e) {
        throw new UncheckedIOException("reading " + WEBJAR_POM, e);
      }
    }
  }
}
