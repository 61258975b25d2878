/** The {@code produce} command: options, environment and config-file resolution, exit codes. */
package io.saestream.synthetic.cli;
