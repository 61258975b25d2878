package io.saestream.synthetic.incident;

import java.time.Duration;

/**
 * Something unusual the synthetic producer makes happen at a scheduled time, measured from the
 * start of production. Implementations are immutable records.
 */
public sealed interface Incident permits LatentBurst, DriftEpisode {

  /** When the incident starts, after the start of production. */
  Duration at();

  /** The incident in the compact spec syntax of {@link IncidentSchedule#parse}. */
  String spec();
}
