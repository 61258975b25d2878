package io.saestream.schema.checkpoint;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * The checkpoint payload format {@code zip}: a ZIP archive holding exactly {@value #CONFIG_FILE}
 * and {@value #WEIGHTS_FILE} at its root — a sae-lens SAE directory, which sae-lens loads once
 * unzipped. The weights are STORED (float data does not compress; storing keeps extraction at copy
 * speed), cfg.json is DEFLATED.
 *
 * <p>Extraction is safe against hostile archives: only those two names are accepted, each once, as
 * plain files (so no path can leave the target directory), and decompressed bytes are counted
 * against {@link ArchiveLimits}. Stateless.
 */
public final class CheckpointArchive {

  /** The sae-lens config file. */
  public static final String CONFIG_FILE = "cfg.json";

  /** The sae-lens weights file. */
  public static final String WEIGHTS_FILE = "sae_weights.safetensors";

  private static final int BUFFER = 1 << 16;

  private CheckpointArchive() {}

  /**
   * Writes the archive of the SAE directory {@code saeDir} to {@code out} (not closed). Other files
   * in the directory are left out.
   *
   * @throws CheckpointArchiveException when a file is missing or cannot be read
   */
  public static void write(Path saeDir, OutputStream out) {
    Objects.requireNonNull(saeDir, "saeDir");
    Objects.requireNonNull(out, "out");
    Path cfg = saeDir.resolve(CONFIG_FILE);
    Path weights = saeDir.resolve(WEIGHTS_FILE);
    for (Path file : List.of(cfg, weights)) {
      if (!Files.isRegularFile(file)) {
        throw new CheckpointArchiveException(file + ": not a file; an SAE directory needs both");
      }
    }
    try {
      ZipOutputStream zip = new ZipOutputStream(out);
      ZipEntry cfgEntry = new ZipEntry(CONFIG_FILE);
      cfgEntry.setMethod(ZipEntry.DEFLATED);
      zip.putNextEntry(cfgEntry);
      Files.copy(cfg, zip);
      zip.closeEntry();
      ZipEntry weightsEntry = new ZipEntry(WEIGHTS_FILE);
      weightsEntry.setMethod(ZipEntry.STORED);
      weightsEntry.setSize(Files.size(weights));
      weightsEntry.setCompressedSize(Files.size(weights));
      weightsEntry.setCrc(crc32(weights));
      zip.putNextEntry(weightsEntry);
      Files.copy(weights, zip);
      zip.closeEntry();
      zip.finish();
    } catch (IOException e) {
      throw new CheckpointArchiveException("cannot archive " + saeDir + ": " + e, e);
    }
  }

  /** The archive of {@code saeDir} in memory, for payloads that fit comfortably in the heap. */
  public static byte[] toBytes(Path saeDir) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    write(saeDir, out);
    return out.toByteArray();
  }

  /**
   * Extracts the archive read from {@code in} into {@code targetDir}, which must be empty or not
   * exist (it is created). On failure the files written so far are deleted.
   *
   * @throws CheckpointArchiveException naming the entry and the problem: an unexpected or repeated
   *     entry, a directory entry, a missing file, a file over its cap, or a corrupt archive
   */
  public static void extract(InputStream in, Path targetDir, ArchiveLimits limits) {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(targetDir, "targetDir");
    Objects.requireNonNull(limits, "limits");
    List<Path> written = new ArrayList<>();
    try {
      prepareTarget(targetDir);
      ZipInputStream zip = new ZipInputStream(new BufferedInputStream(in, BUFFER));
      Set<String> expected = Set.of(CONFIG_FILE, WEIGHTS_FILE);
      List<String> seen = new ArrayList<>();
      for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
        String name = entry.getName();
        if (entry.isDirectory() || !expected.contains(name)) {
          throw new CheckpointArchiveException(
              "archive entry '"
                  + printable(name)
                  + "' is not allowed; a checkpoint archive holds exactly "
                  + CONFIG_FILE
                  + " and "
                  + WEIGHTS_FILE);
        }
        if (seen.contains(name)) {
          throw new CheckpointArchiveException("archive entry '" + name + "' appears twice");
        }
        seen.add(name);
        long cap = name.equals(CONFIG_FILE) ? limits.maxConfigBytes() : limits.maxWeightsBytes();
        Path file = targetDir.resolve(name);
        written.add(file);
        copyCapped(zip, file, name, cap);
      }
      for (String name : expected) {
        if (!seen.contains(name)) {
          throw new CheckpointArchiveException("archive lacks " + name);
        }
      }
    } catch (ZipException e) {
      deleteQuietly(written, e);
      throw new CheckpointArchiveException("corrupt archive: " + e.getMessage(), e);
    } catch (IOException e) {
      deleteQuietly(written, e);
      throw new CheckpointArchiveException(
          "cannot extract the archive to " + targetDir + ": " + e, e);
    } catch (RuntimeException e) {
      deleteQuietly(written, e);
      throw e;
    }
  }

  private static void prepareTarget(Path targetDir) throws IOException {
    if (!Files.exists(targetDir)) {
      Files.createDirectories(targetDir);
      return;
    }
    if (!Files.isDirectory(targetDir)) {
      throw new CheckpointArchiveException(targetDir + ": exists and is not a directory");
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(targetDir)) {
      if (entries.iterator().hasNext()) {
        throw new CheckpointArchiveException(targetDir + ": must be empty to extract into");
      }
    }
  }

  private static void copyCapped(InputStream in, Path file, String name, long cap)
      throws IOException {
    byte[] buffer = new byte[BUFFER];
    long total = 0;
    try (OutputStream out =
        Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        total += n;
        if (total > cap) {
          throw new CheckpointArchiveException(
              "archive entry " + name + " decompresses to more than its cap of " + cap + " bytes");
        }
        out.write(buffer, 0, n);
      }
    }
  }

  private static long crc32(Path file) throws IOException {
    CRC32 crc = new CRC32();
    byte[] buffer = new byte[BUFFER];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        crc.update(buffer, 0, n);
      }
    }
    return crc.getValue();
  }

  private static void deleteQuietly(List<Path> files, Exception primary) {
    for (Path file : files) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        primary.addSuppressed(e);
      }
    }
  }

  /** Entry names come from untrusted input: keep control characters out of the log. */
  private static String printable(String name) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < name.length() && i < 200; i++) {
      char c = name.charAt(i);
      out.append(Character.isISOControl(c) ? '?' : c);
    }
    return out.toString();
  }
}
