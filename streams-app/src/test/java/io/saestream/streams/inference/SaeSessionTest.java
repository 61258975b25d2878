package io.saestream.streams.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.onnx.ExportOptions;
import io.saestream.sae.onnx.SaeOnnxExporter;
import io.saestream.streams.config.InferenceSettings;
import io.saestream.streams.testing.SaeLensFixtures;
import io.saestream.streams.testing.SaeLensFixtures.Matrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The session over the topk_rescale_folded fixture (d_in 32, d_sae 128, k 8). */
class SaeSessionTest {

  private static final String CASE = "topk_rescale_folded";

  private InferenceEngine engine;
  private SaeSession session;

  @BeforeEach
  void open() {
    engine = InferenceEngine.create(InferenceSettings.defaults());
    byte[] model;
    try (SaeCheckpoint checkpoint = SaeCheckpoint.open(SaeLensFixtures.saeDir(CASE))) {
      model = SaeOnnxExporter.exportToBytes(checkpoint, ExportOptions.defaults());
    }
    session = engine.openSession("topk", model);
  }

  @AfterEach
  void close() {
    session.close();
    engine.close();
  }

  @Test
  void readsItsSignatureFromTheModel() {
    assertThat(session.dIn()).isEqualTo(32);
    assertThat(session.slots()).isEqualTo(8);
    assertThat(session.name()).isEqualTo("topk");
  }

  @Test
  void analyzeFindsTheSaeLensLatents() {
    Matrix x = SaeLensFixtures.expected(CASE, "x");
    Matrix acts = SaeLensFixtures.expected(CASE, "feature_acts_loaded");

    long[][] indices = session.analyze(direct(x.data()), x.rows(), SaeSessionTest::indices);

    for (int t = 0; t < x.rows(); t++) {
      int firing = 0;
      for (int j = 0; j < acts.cols(); j++) {
        firing += acts.get(t, j) > 0 ? 1 : 0;
      }
      int used = 0;
      for (long j : indices[t]) {
        if (j >= 0) {
          used++;
          assertThat(acts.get(t, (int) j)).as("token %d latent %d fires", t, j).isPositive();
        }
      }
      assertThat(used).as("latents of token %d", t).isEqualTo(firing);
    }
  }

  @Test
  void differentBatchSizesReuseTheWorkspaceCorrectly() {
    Matrix x = SaeLensFixtures.expected(CASE, "x");
    FloatBuffer all = direct(x.data());
    long[][] whole = session.analyze(all, 10, SaeSessionTest::indices);
    long[][] fewer = session.analyze(all, 3, SaeSessionTest::indices);
    long[][] more = session.analyze(all, 20, SaeSessionTest::indices);
    long[][] again = session.analyze(all, 10, SaeSessionTest::indices);

    assertThat(fewer).isEqualTo(java.util.Arrays.copyOf(whole, 3));
    assertThat(java.util.Arrays.copyOf(more, 10)).isEqualTo(whole);
    assertThat(again).isEqualTo(whole);
  }

  @Test
  void concurrentCallersGetTheSameResultsAsOne() throws Exception {
    Matrix x = SaeLensFixtures.expected(CASE, "x");
    long[][] expected = session.analyze(direct(x.data()), x.rows(), SaeSessionTest::indices);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<long[][]>> results = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        Callable<long[][]> call =
            () -> session.analyze(direct(x.data()), x.rows(), SaeSessionTest::indices);
        results.add(pool.submit(call));
      }
      for (Future<long[][]> result : results) {
        assertThat(result.get()).isEqualTo(expected);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void useAfterCloseThrowsIllegalStateException() {
    session.close();

    assertThat(session.isClosed()).isTrue();
    assertThat(session.tryRetain()).isFalse();
    assertThatThrownBy(() -> session.analyze(direct(new float[32]), 1, a -> a.sse(0)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("SAE session topk is closed");
  }

  @Test
  void aRetainedSessionServesUntilReleasedAfterClose() {
    assertThat(session.tryRetain()).isTrue();
    session.close();

    float sse = session.analyze(direct(new float[32]), 1, a -> a.sse(0));
    assertThat(sse).isFinite();

    session.release();
    assertThatThrownBy(() -> session.analyze(direct(new float[32]), 1, a -> a.sse(0)))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void releasingMoreThanRetainedIsRefused() {
    session.close();
    assertThatThrownBy(session::release)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("released more than retained");
  }

  @Test
  void inputsThatDoNotFitAreRefused() {
    assertThatThrownBy(() -> session.analyze(direct(new float[40]), 2, a -> 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("x must hold nTokens × d_in = 2 × 32 floats, has 40");
    assertThatThrownBy(() -> session.analyze(direct(new float[32]), 0, a -> 0))
        .hasMessage("nTokens must be > 0, was 0");
  }

  @Test
  void heapBuffersWorkToo() {
    float sse = session.analyze(FloatBuffer.wrap(new float[32]), 1, a -> a.sse(0));
    assertThat(sse).isFinite();
  }

  private static long[][] indices(SaeAnalysis analysis) {
    long[][] out = new long[analysis.tokens()][analysis.slots()];
    for (int t = 0; t < analysis.tokens(); t++) {
      for (int s = 0; s < analysis.slots(); s++) {
        out[t][s] = analysis.index(t, s);
      }
    }
    return out;
  }

  private static FloatBuffer direct(float[] values) {
    FloatBuffer buffer =
        ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    buffer.put(values).flip();
    return buffer;
  }
}
