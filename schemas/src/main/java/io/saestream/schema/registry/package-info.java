/**
 * Client for the subset of the Confluent Schema Registry REST API that sae-stream uses: register,
 * look up by id or by schema, latest version, compatibility test and compatibility configuration.
 * It works against Confluent Schema Registry, Redpanda, Karapace, Apicurio's ccompat API and the
 * embedded registry of the {@code embedded} module.
 */
package io.saestream.schema.registry;
