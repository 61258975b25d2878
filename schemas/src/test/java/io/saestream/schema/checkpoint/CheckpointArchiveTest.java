package io.saestream.schema.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CheckpointArchiveTest {

  private static final byte[] CFG = TestCheckpoints.CFG.getBytes(StandardCharsets.UTF_8);
  private static final byte[] WEIGHTS = TestCheckpoints.payload(100_000, 7);
  private static final ArchiveLimits LIMITS = ArchiveLimits.of(1 << 20);

  @TempDir Path tmp;
  private Path saeDir;
  private Path target;

  @BeforeEach
  void writeSaeDirectory() throws IOException {
    saeDir = Files.createDirectories(tmp.resolve("sae"));
    Files.write(saeDir.resolve(CheckpointArchive.CONFIG_FILE), CFG);
    Files.write(saeDir.resolve(CheckpointArchive.WEIGHTS_FILE), WEIGHTS);
    Files.writeString(saeDir.resolve("README.md"), "not part of the checkpoint");
    target = tmp.resolve("out");
  }

  /** A zip of the given entries, in order; a null value makes a directory entry. */
  private static byte[] zip(Map<String, byte[]> entries) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue());
        zip.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  private static Map<String, byte[]> entries(Object... namesAndData) {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    for (int i = 0; i < namesAndData.length; i += 2) {
      entries.put((String) namesAndData[i], (byte[]) namesAndData[i + 1]);
    }
    return entries;
  }

  private void extract(byte[] archive, ArchiveLimits limits) {
    CheckpointArchive.extract(new ByteArrayInputStream(archive), target, limits);
  }

  private List<Path> filesUnder(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).toList();
    }
  }

  @Test
  void anArchiveRoundTripsTheTwoFilesByteForByte() throws IOException {
    byte[] archive = CheckpointArchive.toBytes(saeDir);

    extract(archive, LIMITS);

    assertThat(Files.readAllBytes(target.resolve("cfg.json"))).isEqualTo(CFG);
    assertThat(Files.readAllBytes(target.resolve("sae_weights.safetensors"))).isEqualTo(WEIGHTS);
    assertThat(filesUnder(target)).hasSize(2);
  }

  @Test
  void theArchiveHoldsExactlyTheTwoFilesWithWeightsStored() throws IOException {
    byte[] archive = CheckpointArchive.toBytes(saeDir);
    Map<String, Integer> methods = new LinkedHashMap<>();
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(archive))) {
      for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
        methods.put(e.getName(), e.getMethod());
      }
    }

    assertThat(methods)
        .containsExactly(
            Map.entry("cfg.json", ZipEntry.DEFLATED),
            Map.entry("sae_weights.safetensors", ZipEntry.STORED));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "../cfg.json",
        "../../etc/sae_weights.safetensors",
        "/tmp/cfg.json",
        "sub/cfg.json",
        "./cfg.json",
        "cfg.json\u0000.txt",
        "CFG.JSON"
      })
  void entriesThatCouldEscapeOrAliasAreRefusedAndNothingIsWritten(String name) throws IOException {
    byte[] archive = zip(entries(name, CFG, "sae_weights.safetensors", WEIGHTS));

    assertThatThrownBy(() -> extract(archive, LIMITS))
        .isInstanceOf(CheckpointArchiveException.class)
        .hasMessageContaining("is not allowed; a checkpoint archive holds exactly cfg.json");
    assertThat(filesUnder(tmp)).allMatch(p -> p.startsWith(saeDir));
  }

  @Test
  void anExtraEntryIsRefusedAndTheFilesAlreadyWrittenAreDeleted() throws IOException {
    byte[] archive =
        zip(entries("cfg.json", CFG, "sae_weights.safetensors", WEIGHTS, "run.sh", new byte[] {1}));

    assertThatThrownBy(() -> extract(archive, LIMITS))
        .isInstanceOf(CheckpointArchiveException.class)
        .hasMessageStartingWith("archive entry 'run.sh' is not allowed");
    assertThat(filesUnder(target)).isEmpty();
  }

  @Test
  void aDirectoryEntryIsRefused() throws IOException {
    byte[] archive = zip(entries("cfg.json/", new byte[0], "cfg.json", CFG));

    assertThatThrownBy(() -> extract(archive, LIMITS))
        .isInstanceOf(CheckpointArchiveException.class)
        .hasMessageStartingWith("archive entry 'cfg.json/' is not allowed");
  }

  @Test
  void aRepeatedEntryIsRefused() throws IOException {
    // ZipOutputStream refuses duplicate names, so write a near name and patch it in place.
    byte[] archive =
        zip(entries("cfg.json", CFG, "cfg.jsoX", CFG, "sae_weights.safetensors", WEIGHTS));
    byte[] near = "cfg.jsoX".getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i + near.length <= archive.length; i++) {
      if (Arrays.equals(archive, i, i + near.length, near, 0, near.length)) {
        archive[i + near.length - 1] = 'n';
      }
    }
    byte[] duplicated = archive;

    assertThatThrownBy(() -> extract(duplicated, LIMITS))
        .isInstanceOf(CheckpointArchiveException.class)
        .hasMessage("archive entry 'cfg.json' appears twice");
    assertThat(filesUnder(target)).isEmpty();
  }

  @Test
  void aMissingFileIsRefused() throws IOException {
    byte[] archive = zip(entries("cfg.json", CFG));

    assertThatThrownBy(() -> extract(archive, LIMITS))
        .isInstanceOf(CheckpointArchiveException.class)
        .hasMessage("archive lacks sae_weights.safetensors");
    assertThat(filesUnder(target)).isEmpty();
  }

  @Test
  void weightsOverTheirCapAreRefused() {
    byte[] archive = CheckpointArchive.toBytes(saeDir);

    assertThatThrownBy(() -> extract(archive, ArchiveLimits.of(WEIGHTS.length - 1)))
        .isInstanceOf(CheckpointArchiveException.class)
        .hasMessage(
            "archive entry sae_weights.safetensors decompresses to more than its cap of 99999"
                + " bytes");
  }

  @Test
  void aZipBombStopsAtTheCapOnDecompressedBytes() throws IOException {
    byte[] zeros = new byte[64 << 20];
    byte[] bomb = zip(entries("cfg.json", zeros, "sae_weights.safetensors", WEIGHTS));
    assertThat(bomb.length).isLessThan(1 << 20);

    assertThatThrownBy(() -> extract(bomb, LIMITS))
        .isInstanceOf(CheckpointArchiveException.class)
        .hasMessage("archive entry cfg.json decompresses to more than its cap of 1048576 bytes");
    assertThat(filesUnder(target)).isEmpty();
  }

  @Test
  void aTruncatedArchiveIsRefused() {
    byte[] archive = CheckpointArchive.toBytes(saeDir);
    byte[] truncated = Arrays.copyOf(archive, archive.length / 2);

    assertThatThrownBy(() -> extract(truncated, LIMITS))
        .isInstanceOf(CheckpointArchiveException.class)
        .hasMessageContaining("EOF");
  }

  @Test
  void bytesThatAreNotAZipAreRefused() {
    assertThatThrownBy(() -> extract(TestCheckpoints.payload(5000, 1), LIMITS))
        .isInstanceOf(CheckpointArchiveException.class)
        .hasMessageStartingWith("archive lacks");
  }

  @Test
  void aNonEmptyTargetIsRefused() throws IOException {
    Files.createDirectories(target);
    Files.writeString(target.resolve("old"), "x");

    assertThatThrownBy(() -> extract(CheckpointArchive.toBytes(saeDir), LIMITS))
        .isInstanceOf(CheckpointArchiveException.class)
        .hasMessageEndingWith("must be empty to extract into");
  }

  @Test
  void archivingADirectoryWithoutWeightsFails() throws IOException {
    Files.delete(saeDir.resolve("sae_weights.safetensors"));

    assertThatThrownBy(() -> CheckpointArchive.toBytes(saeDir))
        .isInstanceOf(CheckpointArchiveException.class)
        .hasMessageEndingWith("sae_weights.safetensors: not a file; an SAE directory needs both");
  }
}
