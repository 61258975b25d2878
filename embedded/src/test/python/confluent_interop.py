#!/usr/bin/env python3
"""Foreign-client interop check for the embedded schema registry and the Java serdes.

Run by EmbeddedRegistryPythonInteropTest with Debian's python3-confluent-kafka (legacy
confluent_kafka.avro API) and python3-avro. Against the registry at --registry it:

1. registers the ActivationBatch schema under sae.activations.v1-value with
   CachedSchemaRegistryClient and exercises the other legacy-client calls on it;
2. encodes one ActivationBatch in Confluent wire format with MessageSerializer and writes the
   bytes (for the Java deserializer) and the values it encoded, as JSON;
3. decodes a FeatureBatch that the Java serializer wrote, fetching its writer schema by id, and
   writes the decoded values as JSON (for the Java test to compare).

Exits non-zero with a message on the first check that fails.
"""

import argparse
import datetime
import json
import struct
import sys

from confluent_kafka import avro as cavro
from confluent_kafka.avro import CachedSchemaRegistryClient
from confluent_kafka.avro.serializer.message_serializer import MessageSerializer

ACTIVATIONS_TOPIC = "sae.activations.v1"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def check(condition, message):
    if not condition:
        sys.exit("interop check failed: " + message)


def epoch_millis(value):
    return (value - EPOCH) // datetime.timedelta(milliseconds=1)


def activation_batch():
    n_tokens, d_in = 2, 3
    values = [0.5, -1.25, 3.0e-8, 65504.0, 0.0, -2.0]
    return {
        "model_id": "gpt2-small",
        "hook_name": "blocks.8.hook_resid_pre",
        "sequence_id": "py-seq-1",
        "start_position": 40,
        "n_tokens": n_tokens,
        "d_in": d_in,
        "dtype": "F32",
        "data": struct.pack("<%df" % (n_tokens * d_in), *values),
        "token_ids": [15496, 995],
        "tokens": ["Hello", " wörld"],
        "produced_at": EPOCH + datetime.timedelta(milliseconds=1767225600456),
        "attributes": {"tenant": "python", "client": "confluent-kafka"},
    }


def registry_calls(client, schema):
    subject = ACTIVATIONS_TOPIC + "-value"
    schema_id = client.register(subject, schema)
    check(isinstance(schema_id, int) and schema_id >= 1, "register returned %r" % schema_id)

    fresh = CachedSchemaRegistryClient({"url": client.url})
    fetched = fresh.get_by_id(schema_id)
    check(fetched is not None, "get_by_id(%d) found nothing" % schema_id)
    check(json.loads(str(fetched)) == json.loads(str(schema)),
          "get_by_id returned another schema: %s" % fetched)

    check(fresh.register(subject, schema) == schema_id, "re-registering changed the id")
    latest_id, _, latest_version = fresh.get_latest_schema(subject)
    check((latest_id, latest_version) == (schema_id, 1),
          "get_latest_schema gave id %r version %r" % (latest_id, latest_version))
    check(fresh.get_version(subject, schema) == 1, "get_version is not 1")
    check(fresh.check_registration(subject, schema) == schema_id, "check_registration id differs")
    check(fresh.test_compatibility(subject, schema) is True, "schema not compatible with itself")
    check(fresh.get_compatibility() == "BACKWARD", "global compatibility is not BACKWARD")
    check(fresh.update_compatibility("FULL", subject) == "FULL", "update_compatibility failed")
    check(fresh.get_compatibility(subject) == "FULL", "subject compatibility is not FULL")
    return schema_id


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", required=True)
    parser.add_argument("--activation-schema", required=True)
    parser.add_argument("--activation-out", required=True)
    parser.add_argument("--activation-values-out", required=True)
    parser.add_argument("--feature-batch-in", required=True)
    parser.add_argument("--feature-batch-values-out", required=True)
    args = parser.parse_args()

    client = CachedSchemaRegistryClient({"url": args.registry})
    schema = cavro.load(args.activation_schema)
    schema_id = registry_calls(client, schema)

    serializer = MessageSerializer(client)
    record = activation_batch()
    encoded = serializer.encode_record_with_schema(ACTIVATIONS_TOPIC, schema, record)
    magic, header_id = struct.unpack(">bI", encoded[:5])
    check((magic, header_id) == (0, schema_id), "header is %r" % ((magic, header_id),))
    with open(args.activation_out, "wb") as out:
        out.write(encoded)
    values = dict(record, data=record["data"].hex(), produced_at=epoch_millis(record["produced_at"]),
                  schema_id=schema_id)
    with open(args.activation_values_out, "w", encoding="utf-8") as out:
        json.dump(values, out, ensure_ascii=False)

    with open(args.feature_batch_in, "rb") as data:
        java_bytes = data.read()
    decoded = MessageSerializer(CachedSchemaRegistryClient({"url": args.registry})) \
        .decode_message(java_bytes)
    decoded["produced_at"] = epoch_millis(decoded["produced_at"])
    decoded["schema_id"] = struct.unpack(">I", java_bytes[1:5])[0]
    with open(args.feature_batch_values_out, "w", encoding="utf-8") as out:
        json.dump(decoded, out, ensure_ascii=False)


if __name__ == "__main__":
    main()
