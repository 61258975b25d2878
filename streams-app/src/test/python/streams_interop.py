#!/usr/bin/env python3
"""Python's confluent-kafka as a foreign producer and consumer of a running sae-stream app.

Run by PythonClientInteropIT with Debian's python3-confluent-kafka and python3-avro (numpy when
python3-numpy is installed, else struct). Against the broker at --bootstrap and the schema
registry at --registry it:

1. produces ActivationBatch records to --activations-topic with the legacy
   confluent_kafka.avro.AvroProducer, which registers the .avsc given by --activation-schema under
   <topic>-value (keys are the sequence ids, Avro strings under <topic>-key); falls back to
   SerializingProducer + AvroSerializer only when the legacy module cannot be imported;
2. reads the FeatureBatch records of --features-topic with a read_committed DeserializingConsumer
   (UTF-8 string keys, as the app writes them; Avro values through the registry) until it has
   --expect-features records or --timeout seconds pass;
3. writes what it produced (with each record's partition and offset) and what it consumed, as
   JSON, to --out.

The records: sae-lens fixture rows (--fixture-x, raw little-endian float32, for the topk SAE's
hook) as F32; one block of values that float16 and bfloat16 represent exactly, sent as F32, F16
and BF16 (the app must find the same latents in all three); an F16 batch for --standard-hook;
and one F16 batch whose data is one element short (a dead letter, DATA_LENGTH_MISMATCH).

Exits 2, after writing --out, when fewer FeatureBatch records than expected arrived in time;
exits 1 with a traceback on any other failure.
"""

import argparse
import datetime
import json
import random
import struct
import sys
import time

from confluent_kafka import DeserializingConsumer
from confluent_kafka.serialization import StringDeserializer

try:
    import numpy
except ImportError:  # struct is enough; numpy is only the more natural way to build arrays
    numpy = None

try:
    from confluent_kafka import avro as legacy_avro
    from confluent_kafka.avro import AvroProducer, CachedSchemaRegistryClient
    from confluent_kafka.avro.serializer.message_serializer import MessageSerializer
except ImportError:
    legacy_avro = None

MODEL = "synthetic-fixture"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
SEND_TIMEOUT_S = 20.0


def epoch_millis(value):
    if isinstance(value, datetime.datetime):
        return (value - EPOCH) // datetime.timedelta(milliseconds=1)
    return int(value)


def now():
    return datetime.datetime.now(tz=datetime.timezone.utc)


def representable_block(n_tokens, d_in, seed):
    """Multiples of 1/64 in [-2, 2): exact in float16 (11-bit significand) and bfloat16 (8-bit)."""
    rng = random.Random(seed)
    return [rng.randrange(-128, 128) / 64.0 for _ in range(n_tokens * d_in)]


def f32_bytes(values):
    if numpy is not None:
        return numpy.asarray(values, dtype="<f4").tobytes()
    return struct.pack("<%df" % len(values), *values)


def f16_bytes(values):
    if numpy is not None:
        return numpy.asarray(values, dtype="<f2").tobytes()
    return struct.pack("<%de" % len(values), *values)


def bf16_bytes(values):
    """The upper 16 bits of each float32: exact for values bfloat16 can represent."""
    if numpy is not None:
        bits = numpy.asarray(values, dtype="<f4").view("<u4") >> 16
        return bits.astype("<u2").tobytes()
    words = struct.unpack("<%dI" % len(values), struct.pack("<%df" % len(values), *values))
    return struct.pack("<%dH" % len(values), *(w >> 16 for w in words))


def f16_round(values):
    """The float16 nearest each value, as Python floats (what an F16 record carries)."""
    return list(struct.unpack("<%de" % len(values), f16_bytes(values)))


def batch(hook, sequence_id, start, n_tokens, d_in, dtype, data, **optional):
    return {
        "model_id": MODEL,
        "hook_name": hook,
        "sequence_id": sequence_id,
        "start_position": start,
        "n_tokens": n_tokens,
        "d_in": d_in,
        "dtype": dtype,
        "data": data,
        "token_ids": optional.get("token_ids"),
        "tokens": optional.get("tokens"),
        "produced_at": now(),
        "attributes": optional.get("attributes", {}),
    }


def activation_batches(args):
    with open(args.fixture_x, "rb") as f:
        fixture = f.read()
    d_topk = args.topk_d_in
    fixture_tokens = len(fixture) // (4 * d_topk)
    if fixture_tokens * 4 * d_topk != len(fixture) or fixture_tokens == 0:
        raise ValueError("--fixture-x holds %d bytes, not whole rows of %d float32"
                         % (len(fixture), d_topk))

    block_tokens = 4
    block = representable_block(block_tokens, d_topk, seed=11)
    d_std = args.standard_d_in
    std_tokens = 3
    std_values = f16_round([random.Random(23).gauss(0.0, 1.5) for _ in range(std_tokens * d_std)])

    hook = args.topk_hook
    return [
        # (record, valid): fixture rows, verbatim float32 bytes
        (batch(hook, "py-fixture-f32", 0, fixture_tokens, d_topk, "F32", fixture,
               attributes={"client": "python-confluent-kafka", "case": "fixture"}), True),
        (batch(hook, "py-block-f32", 100, block_tokens, d_topk, "F32", f32_bytes(block)), True),
        (batch(hook, "py-block-f16", 100, block_tokens, d_topk, "F16", f16_bytes(block)), True),
        (batch(hook, "py-block-bf16", 100, block_tokens, d_topk, "BF16", bf16_bytes(block)), True),
        (batch(args.standard_hook, "py-standard-f16", 7, std_tokens, d_std, "F16",
               f16_bytes(std_values), token_ids=[464, 2068, 7586],
               tokens=["The", " quick", " brown"],
               attributes={"tenant": "interop", "client": "python-confluent-kafka"}), True),
        # One element short: must become a DATA_LENGTH_MISMATCH dead letter.
        (batch(args.standard_hook, "py-truncated-f16", 0, 2, d_std, "F16",
               f16_bytes(std_values[:2 * d_std - 1])), False),
    ]


class Producing:
    """The producer API in use: legacy AvroProducer, or SerializingProducer as a fallback."""

    def __init__(self, args):
        with open(args.activation_schema, encoding="utf-8") as f:
            schema_text = f.read()
        common = {"bootstrap.servers": args.bootstrap, "enable.idempotence": True,
                  "acks": "all", "message.timeout.ms": int(SEND_TIMEOUT_S * 1000)}
        if legacy_avro is not None:
            self.api = "confluent_kafka.avro.AvroProducer (legacy, python3-avro)"
            self.producer = AvroProducer(
                dict(common, **{"schema.registry.url": args.registry}),
                default_key_schema=legacy_avro.loads('"string"'),
                default_value_schema=legacy_avro.loads(schema_text))
        else:
            from confluent_kafka import SerializingProducer
            from confluent_kafka.schema_registry import SchemaRegistryClient
            from confluent_kafka.schema_registry.avro import AvroSerializer
            from confluent_kafka.serialization import StringSerializer
            self.api = "confluent_kafka.SerializingProducer + schema_registry.avro.AvroSerializer"
            registry = SchemaRegistryClient({"url": args.registry})
            self.producer = SerializingProducer(dict(common, **{
                "key.serializer": StringSerializer("utf_8"),
                "value.serializer": AvroSerializer(schema_registry_client=registry,
                                                   schema_str=schema_text)}))

    def produce(self, topic, key, value, on_delivery):
        # Same keywords for both: AvroProducer passes on_delivery on to Producer.produce.
        self.producer.produce(topic=topic, key=key, value=value, on_delivery=on_delivery)


def produce_all(args):
    producing = Producing(args)
    records = activation_batches(args)
    delivered = {}
    errors = []

    def on_delivery(err, msg, sequence_id):
        if err is not None:
            errors.append("%s: %s" % (sequence_id, err))
        else:
            delivered[sequence_id] = (msg.partition(), msg.offset())

    for record, _ in records:
        sid = record["sequence_id"]
        producing.produce(args.activations_topic, sid, record,
                          lambda err, msg, sid=sid: on_delivery(err, msg, sid))
    remaining = producing.producer.flush(SEND_TIMEOUT_S)
    if remaining or errors or len(delivered) != len(records):
        raise RuntimeError("produce failed: %d undelivered, errors %s" % (remaining, errors))

    produced = []
    for record, valid in records:
        partition, offset = delivered[record["sequence_id"]]
        produced.append({
            "sequence_id": record["sequence_id"],
            "hook_name": record["hook_name"],
            "dtype": record["dtype"],
            "n_tokens": record["n_tokens"],
            "d_in": record["d_in"],
            "start_position": record["start_position"],
            "data_hex": record["data"].hex(),
            "valid": valid,
            "partition": partition,
            "offset": offset,
        })
    return producing.api, produced


class Consuming:
    """A read_committed DeserializingConsumer; Avro values via the legacy serializer or fallback."""

    def __init__(self, args):
        if legacy_avro is not None:
            self.api = "confluent_kafka.DeserializingConsumer + avro MessageSerializer (legacy)"
            serializer = MessageSerializer(CachedSchemaRegistryClient({"url": args.registry}))

            def value_deserializer(value, _ctx):
                return None if value is None else serializer.decode_message(value)
        else:
            from confluent_kafka.schema_registry import SchemaRegistryClient
            from confluent_kafka.schema_registry.avro import AvroDeserializer
            self.api = "confluent_kafka.DeserializingConsumer + schema_registry.avro.AvroDeserializer"
            with open(args.feature_schema, encoding="utf-8") as f:
                reader_schema = f.read()
            value_deserializer = AvroDeserializer(
                schema_registry_client=SchemaRegistryClient({"url": args.registry}),
                schema_str=reader_schema)
        # The app writes plain UTF-8 keys (Kafka's StringSerializer), which the legacy
        # AvroConsumer would try to decode as Avro; DeserializingConsumer lets keys be strings.
        self.consumer = DeserializingConsumer({
            "bootstrap.servers": args.bootstrap,
            "group.id": "python-interop-%d" % int(time.time() * 1000),
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "key.deserializer": StringDeserializer("utf_8"),
            "value.deserializer": value_deserializer,
        })


def consumed_record(msg):
    value = dict(msg.value())
    value["produced_at"] = epoch_millis(value["produced_at"])
    return {"key": msg.key(), "partition": msg.partition(), "offset": msg.offset(), "value": value}


def consume_features(args):
    consuming = Consuming(args)
    consumer = consuming.consumer
    consumer.subscribe([args.features_topic])
    consumed = []
    deadline = time.monotonic() + args.timeout
    try:
        while len(consumed) < args.expect_features and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None:
                consumed.append(consumed_record(msg))
        # A little longer: a duplicate (exactly-once broken) would arrive right behind.
        linger_until = min(deadline, time.monotonic() + 1.0)
        while time.monotonic() < linger_until:
            msg = consumer.poll(0.2)
            if msg is not None:
                consumed.append(consumed_record(msg))
    finally:
        consumer.close()
    return consuming.api, consumed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--activation-schema", required=True)
    parser.add_argument("--feature-schema", required=True)
    parser.add_argument("--activations-topic", required=True)
    parser.add_argument("--features-topic", required=True)
    parser.add_argument("--topk-hook", required=True)
    parser.add_argument("--topk-d-in", type=int, required=True)
    parser.add_argument("--standard-hook", required=True)
    parser.add_argument("--standard-d-in", type=int, required=True)
    parser.add_argument("--fixture-x", required=True)
    parser.add_argument("--expect-features", type=int, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    producer_api, produced = produce_all(args)
    consumer_api, consumed = consume_features(args)
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump({"producer_api": producer_api, "consumer_api": consumer_api,
                   "numpy": numpy is not None, "produced": produced, "consumed": consumed},
                  out, ensure_ascii=False)
    print("produced %d records with %s; consumed %d FeatureBatch records with %s (numpy: %s)"
          % (len(produced), producer_api, len(consumed), consumer_api, numpy is not None))
    if len(consumed) < args.expect_features:
        sys.exit(2)


if __name__ == "__main__":
    main()
