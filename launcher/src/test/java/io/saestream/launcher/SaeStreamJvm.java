package io.saestream.launcher;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The {@code sae-stream} command in a child JVM, as a user's shell runs it, for tests that stop it
 * with a signal and check how it ended. Each child works in a directory of the test's, where the
 * JVM also writes its {@code hs_err_pid*.log} if it crashes. Stateless; thread-safe.
 */
public final class SaeStreamJvm {

  /** Text a crashing JVM or native library prints instead of a normal exit. */
  private static final List<String> CRASH_MARKERS =
      List.of("SIGSEGV", "SIGABRT", "hs_err", "A fatal error", "terminate called");

  private SaeStreamJvm() {}

  /**
   * A process builder for {@code java -Xmx1g -jar <pathing jar> args...} working in {@code dir}
   * (the pathing jar is written there); the caller redirects its output and starts it.
   */
  public static ProcessBuilder command(Path dir, List<String> args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    command.add("-Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.saestream");
    command.add("-jar");
    command.add(pathingJar(dir).toString());
    command.addAll(args);
    return new ProcessBuilder(command).directory(dir.toFile());
  }

  /**
   * What shows that a child working in {@code dir} crashed: the crash markers found in its {@code
   * output} and the {@code hs_err} files in {@code dir}; empty when there are none.
   */
  public static List<String> crashEvidence(Path dir, String output) throws IOException {
    List<String> evidence = new ArrayList<>();
    for (String marker : CRASH_MARKERS) {
      if (output.contains(marker)) {
        evidence.add("output contains '" + marker + "'");
      }
    }
    try (Stream<Path> files = Files.list(dir)) {
      files
          .map(p -> p.getFileName().toString())
          .filter(name -> name.startsWith("hs_err"))
          .forEach(name -> evidence.add("crash log " + name));
    }
    return evidence;
  }

  /** The last 4,000 characters of {@code file}, for failure messages. */
  public static String tail(Path file) throws IOException {
    String text = Files.readString(file);
    return text.substring(Math.max(0, text.length() - 4000));
  }

  /**
   * A jar holding only a manifest: {@code Main-Class} and, as {@code Class-Path}, this test run's
   * class path (what surefire and failsafe do themselves). Passing that class path as {@code -cp}
   * instead would make {@code java.class.path} longer than about 4 KB, and with that ONNX Runtime
   * 1.29's native initialisation crashes the JVM before any sae-stream code runs.
   */
  private static Path pathingJar(Path dir) throws IOException {
    String classPath = System.getProperty("surefire.test.class.path");
    if (classPath == null || classPath.isBlank()) {
      classPath = System.getProperty("java.class.path", "");
    }
    List<String> urls = new ArrayList<>();
    for (String entry : classPath.split(File.pathSeparator, -1)) {
      if (!entry.isBlank()) {
        // Directories end in '/' in the URI, which Class-Path needs to read them as directories.
        urls.add(Path.of(entry).toAbsolutePath().toUri().toString());
      }
    }
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, SaeStreamCommand.class.getName());
    manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", urls));
    Path jar = Files.createTempFile(dir, "sae-stream-classpath", ".jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
      out.flush();
    }
    return jar;
  }
}
