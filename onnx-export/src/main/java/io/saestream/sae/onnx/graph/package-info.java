/**
 * Internal API of onnx-export: the ONNX graph-building primitives that the inference exporter
 * ({@code io.saestream.sae.onnx}) and the training-step builder ({@code io.saestream.sae.training})
 * share. Public only because Java has no module-internal visibility here; other modules must not
 * use it, and it changes without notice.
 */
package io.saestream.sae.onnx.graph;
