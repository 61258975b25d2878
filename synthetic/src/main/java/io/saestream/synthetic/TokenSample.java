package io.saestream.synthetic;

import java.util.Arrays;
import java.util.Objects;

/**
 * One synthetic activation vector with its ground truth: which features were active and how
 * strongly. The arrays are handed over, not copied: whoever receives a sample owns them. Not
 * thread-safe to mutate, safe to share read-only.
 */
public final class TokenSample {

  private final float[] activation;
  private final int[] activeFeatures;
  private final float[] magnitudes;

  /**
   * Wraps the arrays of one token.
   *
   * @param activation the vector, length d_in
   * @param activeFeatures indices of the active features, strictly ascending
   * @param magnitudes magnitude of each active feature, parallel to {@code activeFeatures}
   */
  public TokenSample(float[] activation, int[] activeFeatures, float[] magnitudes) {
    this.activation = Objects.requireNonNull(activation, "activation");
    this.activeFeatures = Objects.requireNonNull(activeFeatures, "activeFeatures");
    this.magnitudes = Objects.requireNonNull(magnitudes, "magnitudes");
    if (activeFeatures.length != magnitudes.length) {
      throw new IllegalArgumentException(
          "magnitudes must have one entry per active feature ("
              + activeFeatures.length
              + "), had "
              + magnitudes.length);
    }
    for (int i = 1; i < activeFeatures.length; i++) {
      if (activeFeatures[i] <= activeFeatures[i - 1]) {
        throw new IllegalArgumentException(
            "active features must be strictly ascending, were " + Arrays.toString(activeFeatures));
      }
    }
  }

  /** The activation vector (not a copy). */
  public float[] activation() {
    return activation;
  }

  /** Indices of the active features, ascending (not a copy). */
  public int[] activeFeatures() {
    return activeFeatures;
  }

  /** Magnitudes of the active features, parallel to {@link #activeFeatures()} (not a copy). */
  public float[] magnitudes() {
    return magnitudes;
  }

  /** Number of active features. */
  public int l0() {
    return activeFeatures.length;
  }

  /** The magnitude of {@code feature} in this token, 0 when it is not active. */
  public float magnitudeOf(int feature) {
    int at = Arrays.binarySearch(activeFeatures, feature);
    return at >= 0 ? magnitudes[at] : 0f;
  }

  @Override
  public String toString() {
    return "TokenSample[d_in="
        + activation.length
        + ", active="
        + Arrays.toString(activeFeatures)
        + "]";
  }
}
