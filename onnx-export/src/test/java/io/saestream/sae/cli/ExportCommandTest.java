package io.saestream.sae.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.saestream.sae.checkpoint.CorruptCheckpoints;
import io.saestream.sae.checkpoint.Fixtures;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** The {@code export} command as a user runs it: exit codes, messages, files left behind. */
class ExportCommandTest {

  @TempDir Path tmp;

  private record Run(int exitCode, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = CliExceptionHandler.install(new CommandLine(new ExportCommand()));
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void exportsAFixtureAndPrintsASummaryOfWhatWasWritten() throws Exception {
    Path out = tmp.resolve("out").resolve("sae.onnx");
    Files.createDirectories(out.getParent());

    Run r =
        run(
            "--in",
            Fixtures.sae("topk_rescale_folded").toString(),
            "--out",
            out.toString(),
            "--sae-id",
            "l8-topk",
            "--sae-version",
            "3");

    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("Exported " + out.toAbsolutePath())
        .contains("topk → topk")
        .contains("graph          analyze, K=")
        .contains("source sha256")
        .contains("indices")
        .contains("relative_error");
    try (OrtSession s = OrtEnvironment.getEnvironment().createSession(out.toString())) {
      assertThat(s.getOutputNames()).contains("indices", "values", "sae_out", "sse", "l0");
      assertThat(s.getMetadata().getCustomMetadata())
          .containsEntry("sae_stream.sae_id", "l8-topk")
          .containsEntry("sae_stream.version", "3");
    }
  }

  @Test
  void foldTurnsABatchTopKTrainingCheckpointIntoAServableJumpRelu() throws Exception {
    Path out = tmp.resolve("bt.onnx");

    Run refused =
        run(
            "--in",
            Fixtures.trainingCheckpoint("batchtopk_as_jumprelu").toString(),
            "--out",
            out.toString());
    Run folded =
        run(
            "--in",
            Fixtures.trainingCheckpoint("batchtopk_as_jumprelu").toString(),
            "--out",
            out.toString(),
            "--fold");

    assertThat(refused.exitCode()).isEqualTo(1);
    assertThat(refused.err()).contains("BatchTopK").contains("--fold");
    assertThat(folded.exitCode()).as(folded.err()).isZero();
    assertThat(folded.out()).contains("batchtopk → jumprelu");
  }

  @Test
  void unknownGraphKindIsAUsageError() {
    Run r =
        run(
            "--in", Fixtures.sae("standard").toString(),
            "--out", tmp.resolve("x.onnx").toString(),
            "--graph", "dense");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--graph").contains("analyze, encoder, decoder");
    assertThat(tmp.resolve("x.onnx")).doesNotExist();
  }

  @Test
  void helpDescribesEveryOption() {
    Run r = run("--help");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out())
        .contains("--in", "--out", "--graph", "--max-active", "--fold", "--external-data");
  }

  static Stream<Arguments> corruptCheckpoints() {
    List<Arguments> cases =
        List.of(
            Arguments.of("truncated file", fn(CorruptCheckpoints::truncatedWeights), "safetensors"),
            Arguments.of(
                "header length beyond the file",
                fn(CorruptCheckpoints::headerLengthBeyondFile),
                "header"),
            Arguments.of(
                "overlapping offsets", fn(CorruptCheckpoints::overlappingOffsets), "overlap"),
            Arguments.of(
                "out-of-range offsets", fn(CorruptCheckpoints::outOfRangeOffsets), "data_offsets"),
            Arguments.of("unsupported dtype", fn(CorruptCheckpoints::unsupportedDtype), "dtype"),
            Arguments.of(
                "shape disagrees with cfg.json",
                fn(CorruptCheckpoints::shapeDisagreesWithConfig),
                "shape"),
            Arguments.of("missing tensor", fn(CorruptCheckpoints::missingTensor), "missing"),
            Arguments.of("NaN weights", fn(CorruptCheckpoints::nanWeight), "NaN"),
            Arguments.of("Inf weights", fn(CorruptCheckpoints::infWeight), "nf"),
            Arguments.of(
                "unknown architecture",
                fn(CorruptCheckpoints::unknownArchitecture),
                "architecture"),
            Arguments.of("d_sae <= 0", fn(CorruptCheckpoints::dSaeNotPositive), "d_sae"),
            Arguments.of("d_in <= 0", fn(CorruptCheckpoints::dInNotPositive), "d_in"),
            Arguments.of("malformed cfg.json", fn(CorruptCheckpoints::malformedConfig), "cfg.json"),
            Arguments.of(
                "unfolded expected_average_only_in",
                fn(CorruptCheckpoints::unfoldedActivationScale),
                "expected_average_only_in"));
    return cases.stream();
  }

  private static Function<Path, Path> fn(Function<Path, Path> f) {
    return f;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corruptCheckpoints")
  void corruptInputFailsWithAClearMessageAndLeavesNoOutputBehind(
      String label, Function<Path, Path> corrupt, String problemWord) throws IOException {
    Path in = corrupt.apply(tmp.resolve("in"));
    Path outDir = Files.createDirectories(tmp.resolve("out"));

    Run r = run("--in", in.toString(), "--out", outDir.resolve("sae.onnx").toString(), "--fold");

    assertThat(r.exitCode()).as(label).isEqualTo(1);
    assertThat(r.err())
        .as(label)
        .startsWith("error: ")
        .containsAnyOf("cfg.json", "sae_weights.safetensors")
        .containsIgnoringCase(problemWord);
    assertThat(r.err().lines().count()).as("one clear line, no stack trace").isEqualTo(1);
    try (Stream<Path> left = Files.list(outDir)) {
      assertThat(left).as(label + ": files left in the output directory").isEmpty();
    }
  }
}
