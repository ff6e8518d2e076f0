"""moto's server, with Kinesis resharding the way AWS does it, for test_streams' split test.

moto (5.x) moves a split shard's records into its children, keeps the closed parent in the hash-key
routing (records put after a split still land in it) and never ends a closed shard's iterator. AWS
keeps a parent's records in the parent, routes new records to the open children only, and answers
GetRecords on a closed shard read to its end with no NextShardIterator (the Kinesis API reference,
SplitShard and GetRecords). This wrapper corrects those three points in moto's own models and then
runs moto's server unchanged: same arguments as `python3 -m moto.server`.

One test fixture besides: a record put with a partition key that starts with "aged-" arrived
120 s ago (its ApproximateArrivalTimestamp), so that MaximumRecordAgeInSeconds (60 s at least) can
be tested without waiting a minute."""
import datetime
import sys

from moto.kinesis import models
from moto.server import main


def open_shard_for_key(self, partition_key, explicit_hash_key):
    shards = self.shards
    try:
        self.shards = {k: s for k, s in shards.items() if s.is_open}
        return ORIG_SHARD_FOR_KEY(self, partition_key, explicit_hash_key)
    finally:
        self.shards = shards


def records_to_the_end(self, stream_arn, shard_iterator, limit):
    next_it, records, millis = ORIG_GET_RECORDS(self, stream_arn, shard_iterator, limit)
    stream_name, shard_id, last = models.decompose_shard_iterator(next_it)
    stream = self.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
    shard = stream.get_shard(shard_id)
    if not shard.is_open and (not shard.records or int(last) >= max(shard.records)):
        next_it = None
    return next_it, records, millis


def split_keeping_records(self, shard_to_split, new_starting_hash_key):
    shard = self.shards.get(shard_to_split)
    records = shard.records if shard else None
    self.put_record = lambda *a, **kw: None  # moto re-puts the parent's records: not on AWS
    try:
        return ORIG_SPLIT(self, shard_to_split, new_starting_hash_key)
    finally:
        del self.put_record
        if shard is not None:
            shard.records = records


def aged_record(self, partition_key, data, sequence_number, explicit_hash_key):
    ORIG_RECORD_INIT(self, partition_key, data, sequence_number, explicit_hash_key)
    if str(partition_key).startswith("aged-"):
        self.created_at_datetime -= datetime.timedelta(seconds=120)
        self.created_at -= 120


ORIG_RECORD_INIT = models.Record.__init__
models.Record.__init__ = aged_record
ORIG_SPLIT = models.Stream.split_shard
models.Stream.split_shard = split_keeping_records
ORIG_SHARD_FOR_KEY = models.Stream.get_shard_for_key
ORIG_GET_RECORDS = models.KinesisBackend.get_records
models.Stream.get_shard_for_key = open_shard_for_key
models.KinesisBackend.get_records = records_to_the_end

if __name__ == "__main__":
    sys.exit(main())
