"""A read-only SigV4 key (--xray-read-access-key) through boto3 (botocore signs as the aws CLI
does): every X-Ray read operation is answered, every write is refused with 403
AccessDeniedException, while the full key (--xray-access-key) may write and an unknown key is
UnrecognizedClientException. GetSamplingTargets and GetSamplingRules stay open to every caller:
the SDKs' sampling pollers never sign them (docs/xray.md).

usage: test_read_only_key.py /path/to/ariadne
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, check, skip  # noqa: E402

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError:
    skip("boto3 is not installed: pip install boto3")

ARIADNE = sys.argv[1]
TRACE = "1-5f84c7a1-0123456789abcdef01234567"
RULE = {"RuleName": "r1", "ResourceARN": "*", "Priority": 10, "FixedRate": 0.1, "ReservoirSize": 1,
        "ServiceName": "*", "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*",
        "Version": 1}


def client(server, key_id, secret):
    return boto3.client("xray", endpoint_url=server.xray_url, region_name="us-east-1",
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def error_code(call):
    try:
        call()
        return None
    except ClientError as e:
        return e.response["Error"]["Code"]


def main():
    now = time.time()
    arn = {}  # the ARN of group g1, once the full key created it
    reads = {
        "GetSamplingRules": lambda x: x.get_sampling_rules(),
        "GetSamplingStatisticSummaries": lambda x: x.get_sampling_statistic_summaries(),
        "GetGroup": lambda x: x.get_group(GroupName="Default"),
        "GetGroups": lambda x: x.get_groups(),
        "GetTraceSummaries": lambda x: x.get_trace_summaries(StartTime=now - 60, EndTime=now),
        "BatchGetTraces": lambda x: x.batch_get_traces(TraceIds=[TRACE]),
        "GetServiceGraph": lambda x: x.get_service_graph(StartTime=now - 60, EndTime=now),
        "GetTraceGraph": lambda x: x.get_trace_graph(TraceIds=[TRACE]),
        "GetTimeSeriesServiceStatistics":
            lambda x: x.get_time_series_service_statistics(StartTime=now - 60, EndTime=now),
        "ListTagsForResource": lambda x: x.list_tags_for_resource(ResourceARN=arn["g1"]),
        "GetEncryptionConfig": lambda x: x.get_encryption_config(),
        "GetTraceSegmentDestination": lambda x: x.get_trace_segment_destination(),
        "GetInsightSummaries": lambda x: x.get_insight_summaries(StartTime=now - 60, EndTime=now),
        "GetInsight": lambda x: x.get_insight(InsightId="none"),
        "GetInsightEvents": lambda x: x.get_insight_events(InsightId="none"),
        "GetInsightImpactGraph":
            lambda x: x.get_insight_impact_graph(InsightId="none", StartTime=now - 60, EndTime=now),
    }
    writes = {
        "PutTraceSegments": lambda x: x.put_trace_segments(TraceSegmentDocuments=[]),
        "PutTelemetryRecords": lambda x: x.put_telemetry_records(TelemetryRecords=[]),
        "CreateSamplingRule": lambda x: x.create_sampling_rule(SamplingRule=RULE),
        "UpdateSamplingRule":
            lambda x: x.update_sampling_rule(SamplingRuleUpdate={"RuleName": "r1", "FixedRate": 0.2}),
        "DeleteSamplingRule": lambda x: x.delete_sampling_rule(RuleName="r1"),
        "CreateGroup": lambda x: x.create_group(GroupName="g1", FilterExpression="ok"),
        "UpdateGroup": lambda x: x.update_group(GroupName="g1", FilterExpression="error"),
        "DeleteGroup": lambda x: x.delete_group(GroupName="g1"),
        "TagResource":
            lambda x: x.tag_resource(ResourceARN=arn["g1"], Tags=[{"Key": "k", "Value": "v"}]),
        "UntagResource": lambda x: x.untag_resource(ResourceARN=arn["g1"], TagKeys=["k"]),
        "PutEncryptionConfig": lambda x: x.put_encryption_config(Type="NONE"),
        "UpdateTraceSegmentDestination":
            lambda x: x.update_trace_segment_destination(Destination="XRay"),
    }
    server = Server(ARIADNE, extra_args=["--xray-access-key", "AKIDFULL:full-secret",
                                         "--xray-read-access-key", "AKIDREAD:read-secret"])
    try:
        full = client(server, "AKIDFULL", "full-secret")
        reader = client(server, "AKIDREAD", "read-secret")
        arn["g1"] = full.create_group(GroupName="g1", FilterExpression="ok")["Group"]["GroupARN"]
        check(error_code(lambda: full.create_sampling_rule(SamplingRule=RULE)) is None,
              "the full key creates a sampling rule")
        for name, call in reads.items():
            code = error_code(lambda: call(reader))
            check(code is None, "%s with the read-only key is answered (error: %s)" % (name, code))
        for name, call in writes.items():
            code = error_code(lambda: call(reader))
            check(code == "AccessDeniedException",
                  "%s with the read-only key is refused with AccessDeniedException (got %s)"
                  % (name, code))
        # The sampling poller's call is never signed, so no key is refused it.
        code = error_code(lambda: reader.get_sampling_targets(SamplingStatisticsDocuments=[]))
        check(code is None, "GetSamplingTargets stays open (the SDK pollers do not sign): %s" % code)
        # What the read key could not do did not happen.
        groups = [g["GroupName"] for g in full.get_groups()["Groups"]]
        check("g1" in groups, "the read key's DeleteGroup did not delete g1: %s" % groups)
        rule = [r["SamplingRule"] for r in full.get_sampling_rules()["SamplingRuleRecords"]
                if r["SamplingRule"]["RuleName"] == "r1"]
        check(rule and rule[0]["FixedRate"] == 0.1, "the read key's UpdateSamplingRule changed nothing")
        stranger = client(server, "AKIDOTHER", "read-secret")
        code = error_code(lambda: stranger.get_groups())
        check(code == "UnrecognizedClientException", "an unknown key is refused: %s" % code)
        wrong = client(server, "AKIDREAD", "not-the-secret")
        code = error_code(lambda: wrong.get_groups())
        check(code == "InvalidSignatureException", "a wrong secret is refused: %s" % code)
    finally:
        server.stop()
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
