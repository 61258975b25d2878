package io.saestream.launcher;

import picocli.CommandLine.IVersionProvider;

/** Reports the version from the jar manifest (or "dev" when run from classes). */
final class VersionProvider implements IVersionProvider {

  @Override
  public String[] getVersion() {
    String v = SaeStreamCommand.class.getPackage().getImplementationVersion();
    return new String[] {"sae-stream " + (v == null ? "dev" : v)};
  }
}
