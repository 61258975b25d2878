package io.saestream.streams.registry;

import java.util.Objects;

/**
 * Where activations come from: a model and one of its hook points. ActivationBatch records are
 * routed by it.
 *
 * @param modelId e.g. {@code gpt2-small}
 * @param hookName e.g. {@code blocks.8.hook_resid_pre}
 */
public record HookKey(String modelId, String hookName) {

  /** Validates that both parts are present. */
  public HookKey {
    Objects.requireNonNull(modelId, "modelId");
    Objects.requireNonNull(hookName, "hookName");
  }

  @Override
  public String toString() {
    return "(" + modelId + ", " + hookName + ")";
  }
}
