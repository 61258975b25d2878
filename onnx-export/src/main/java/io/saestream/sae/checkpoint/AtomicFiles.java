package io.saestream.sae.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Crash-safe file replacement: write a hidden temporary sibling, fsync it, rename it over the
 * target (atomic on POSIX file systems), fsync the directory. A failure never leaves a partial
 * target behind, and the temporary file is deleted. Stateless.
 */
final class AtomicFiles {

  private static final Logger LOG = LoggerFactory.getLogger(AtomicFiles.class);

  /** Writes the content of a file to an open channel. */
  @FunctionalInterface
  interface Body {
    void writeTo(FileChannel channel) throws IOException;
  }

  private AtomicFiles() {}

  /**
   * Writes {@code body} to a new hidden file next to {@code target} (default permissions, like a
   * plain create) and forces it to disk. On failure the temporary file is deleted.
   *
   * @return the temporary file, to {@link #commit} or delete
   */
  static Path writeTemp(Path target, Body body) throws IOException {
    Path tmp = createTempSibling(target);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      body.writeTo(ch);
      ch.force(true);
    } catch (IOException | RuntimeException | Error e) {
      deleteAfterFailure(tmp, e);
      throw e;
    }
    return tmp;
  }

  /** Renames {@code tmp} over {@code target} atomically. */
  static void commit(Path tmp, Path target) throws IOException {
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Forces a directory's entries (a rename) to disk. Not every platform can open a directory
   * (Windows cannot); there the rename is as durable as the OS makes it, which is logged.
   */
  static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      LOG.debug("cannot fsync directory {} on this platform: {}", dir, e.toString());
    }
  }

  /** Deletes {@code path} after {@code primary} failed, attaching any failure to it. */
  static void deleteAfterFailure(Path path, Throwable primary) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      primary.addSuppressed(e);
    }
  }

  /** A new, empty, hidden file {@code .<name>.<random>.tmp} in the target's directory. */
  static Path createTempSibling(Path target) throws IOException {
    Path dir = parentOf(target);
    String name = String.valueOf(target.getFileName());
    while (true) {
      Path tmp = dir.resolve("." + name + "." + randomHex() + ".tmp");
      try {
        return Files.createFile(tmp);
      } catch (FileAlreadyExistsException e) {
        // Another writer picked the same name (vanishingly rare): draw again.
        LOG.trace("temporary name {} taken, retrying", tmp);
      }
    }
  }

  static String randomHex() {
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }

  static Path parentOf(Path file) {
    Path abs = file.toAbsolutePath();
    Path parent = abs.getParent();
    if (parent == null) {
      throw new IllegalArgumentException(file + " has no parent directory");
    }
    return parent;
  }
}
