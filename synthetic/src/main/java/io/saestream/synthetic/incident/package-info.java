/**
 * Incidents a synthetic producer stages at scheduled times — latent bursts and drift episodes — and
 * their compact spec syntax, e.g. {@code burst@30s:feature=17,tokens=20;drift@60s+20s:scale=3}.
 */
package io.saestream.synthetic.incident;
