package io.saestream.launcher.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.saestream.launcher.SaeStreamCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code bench train} at a toy size: it runs both parts and reports both sides and the ratios. */
class TrainBenchTest {

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = SaeStreamCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void aToyRunReportsSparseDenseTheirRatioAndTheStallOfPublishing() {
    Run r =
        run(
            "bench",
            "train",
            "--d-in",
            "16",
            "--d-sae",
            "64",
            "--k",
            "4",
            "--batch",
            "32",
            "--rounds",
            "2",
            "--threads",
            "1",
            "--publish-steps",
            "4",
            "--publish-every",
            "2");
    System.out.println(r.out());
    assertThat(r.code()).as("exit code; stderr: %s", r.err()).isZero();
    assertThat(r.out())
        .contains("topk d_in=16 d_sae=64 k=4 batch=32")
        .containsPattern("SPARSE: median +[0-9.]+ ms/step")
        .containsPattern("DENSE : median +[0-9.]+ ms/step")
        .containsPattern("sparse speed-up: [0-9.]+x")
        // Both formulations compute the same step: same inputs, same loss up to float32 order.
        .containsPattern("losses agree to [0-9.]+e-0[5-9]|losses agree to 0\\.0e\\+00")
        .contains("steps with nothing in flight")
        .containsPattern("worst stall: -?[0-9.]+ step");
  }

  @ParameterizedTest
  @CsvSource({
    "--k,0,--k must be > 0, was 0",
    "--batch,-1,--batch must be > 0, was -1",
    "--k,17,--k must be <= --d-sae, was 17 > 16",
    "--dead,1.5,'--dead must be in [0, 1), was 1.5'",
    "--publish-steps,-2,'--publish-steps must be >= 0, was -2'",
    "--publish-every,0,'--publish-every must be > 0, was 0'",
  })
  void badOptionsAreRefusedWithTheirName(String option, String value, String message) {
    // Toy sizes for every other option, so that a check that let a value through would not
    // start a full-size run.
    Map<String, String> args = new LinkedHashMap<>();
    args.put("--d-in", "8");
    args.put("--d-sae", "16");
    args.put("--k", "2");
    args.put("--batch", "8");
    args.put("--rounds", "1");
    args.put("--publish-steps", "0");
    args.put(option, value);
    List<String> argv = new ArrayList<>(List.of("bench", "train"));
    args.forEach(
        (k, v) -> {
          argv.add(k);
          argv.add(v);
        });
    Run r = run(argv.toArray(String[]::new));
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains(message);
  }
}
