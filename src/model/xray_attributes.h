// Attribute and resource keys that carry X-Ray segment data in the shared span model.
//
// The X-Ray receiver (src/receivers/xray) writes these keys; the X-Ray filter evaluator
// (src/query/xray_filter) and the X-Ray API's document encoder read them back. Where an
// OpenTelemetry semantic convention exists it is used (so OTLP spans and X-Ray segments answer the
// same queries); X-Ray-only facts live under `aws.xray.`. The full mapping is in
// docs/xray-mapping.md.
//
// Header-only constants; no threads, no state.
#pragma once

#include <string_view>

namespace ariadne::model::xray {

// Resource.
inline constexpr std::string_view kServiceName = "service.name";
inline constexpr std::string_view kServiceVersion = "service.version";
inline constexpr std::string_view kOrigin = "aws.xray.origin";  // AWS::EC2::Instance, ...
inline constexpr std::string_view kCloudProvider = "cloud.provider";
inline constexpr std::string_view kCloudPlatform = "cloud.platform";
inline constexpr std::string_view kCloudAccountId = "cloud.account.id";
inline constexpr std::string_view kCloudAvailabilityZone = "cloud.availability_zone";
inline constexpr std::string_view kHostId = "host.id";
inline constexpr std::string_view kHostType = "host.type";
inline constexpr std::string_view kHostImageId = "host.image.id";
inline constexpr std::string_view kContainerName = "container.name";
inline constexpr std::string_view kDeploymentEnvironment = "deployment.environment";
inline constexpr std::string_view kServiceInstanceId = "service.instance.id";
inline constexpr std::string_view kSdkName = "telemetry.sdk.name";
inline constexpr std::string_view kSdkVersion = "telemetry.sdk.version";
inline constexpr std::string_view kSdkLanguage = "telemetry.sdk.language";
inline constexpr std::string_view kProcessRuntimeName = "process.runtime.name";
inline constexpr std::string_view kProcessRuntimeVersion = "process.runtime.version";

// Span: entity shape.
inline constexpr std::string_view kType = "aws.xray.type";  // "segment" | "subsegment"
inline constexpr std::string_view kNamespace = "aws.xray.namespace";
inline constexpr std::string_view kInProgress = "aws.xray.in_progress";
inline constexpr std::string_view kInferred = "aws.xray.inferred";
inline constexpr std::string_view kTraced = "aws.xray.traced";
inline constexpr std::string_view kPrecursorIds = "aws.xray.precursor_ids";
inline constexpr std::string_view kResourceArn = "aws.xray.resource_arn";
inline constexpr std::string_view kSamplingRuleName = "aws.xray.sampling_rule_name";
inline constexpr std::string_view kUser = "enduser.id";
// The document as sent (whitespace removed, nothing else changed), on the span of the document's
// top entity only: a segment (its embedded subsegments are inside), or an independently sent
// subsegment (each element of a top-level array gets its own). Key/value-list type (JSON object
// text), so the pipeline's string clamp does not cut it. BatchGetTraces returns it
// (query/xray/documents.h); the other attributes stay the searchable view of the same data.
inline constexpr std::string_view kDocument = "aws.xray.document";

// Span: HTTP (current semconv; the older names are read too).
inline constexpr std::string_view kHttpMethod = "http.request.method";
inline constexpr std::string_view kHttpUrl = "url.full";
inline constexpr std::string_view kHttpUserAgent = "user_agent.original";
inline constexpr std::string_view kHttpClientIp = "client.address";
inline constexpr std::string_view kHttpXForwardedFor = "aws.xray.http.x_forwarded_for";
inline constexpr std::string_view kHttpStatus = "http.response.status_code";
inline constexpr std::string_view kHttpContentLength = "http.response.body.size";
inline constexpr std::string_view kOldHttpMethod = "http.method";
inline constexpr std::string_view kOldHttpUrl = "http.url";
inline constexpr std::string_view kOldHttpStatus = "http.status_code";
inline constexpr std::string_view kOldHttpUserAgent = "http.user_agent";
inline constexpr std::string_view kOldHttpClientIp = "http.client_ip";

// Span: errors.
inline constexpr std::string_view kError = "aws.xray.error";
inline constexpr std::string_view kFault = "aws.xray.fault";
inline constexpr std::string_view kThrottle = "aws.xray.throttle";
inline constexpr std::string_view kCauseId = "aws.xray.cause.id";  // cause given as exception id
inline constexpr std::string_view kCauseWorkingDirectory = "aws.xray.cause.working_directory";
inline constexpr std::string_view kCausePaths = "aws.xray.cause.paths";  // JSON array text

// Exception events ("exception"), OTel exception semconv plus X-Ray extras.
inline constexpr std::string_view kExceptionEvent = "exception";
inline constexpr std::string_view kExceptionType = "exception.type";
inline constexpr std::string_view kExceptionMessage = "exception.message";
inline constexpr std::string_view kExceptionStacktrace = "exception.stacktrace";
inline constexpr std::string_view kExceptionId = "aws.xray.exception.id";
inline constexpr std::string_view kExceptionRemote = "aws.xray.exception.remote";
inline constexpr std::string_view kExceptionTruncated = "aws.xray.exception.truncated";
inline constexpr std::string_view kExceptionSkipped = "aws.xray.exception.skipped";
inline constexpr std::string_view kExceptionCause = "aws.xray.exception.cause";
inline constexpr std::string_view kExceptionStack = "aws.xray.exception.stack";  // JSON array text

// Span: aws (subsegment call data and segment-level aws fields not on the resource).
inline constexpr std::string_view kAwsOperation = "aws.operation";
inline constexpr std::string_view kAwsRegion = "aws.region";
inline constexpr std::string_view kAwsRequestId = "aws.request_id";
inline constexpr std::string_view kAwsQueueUrl = "aws.queue_url";
inline constexpr std::string_view kAwsTableName = "aws.table_name";
inline constexpr std::string_view kAwsRetries = "aws.retries";
inline constexpr std::string_view kAwsAccountId = "aws.account_id";
inline constexpr std::string_view kAwsResourceNames = "aws.resource_names";  // JSON array text
inline constexpr std::string_view kAwsPrefix = "aws.";  // other aws keys: aws.<key>

// Span: sql.
inline constexpr std::string_view kDbSystem = "db.system";
inline constexpr std::string_view kDbStatement = "db.statement";
inline constexpr std::string_view kDbConnectionString = "db.connection_string";
inline constexpr std::string_view kDbUser = "db.user";
inline constexpr std::string_view kDbUrl = "aws.xray.sql.url";
inline constexpr std::string_view kDbVersion = "aws.xray.sql.database_version";
inline constexpr std::string_view kDbDriverVersion = "aws.xray.sql.driver_version";
inline constexpr std::string_view kDbPreparation = "aws.xray.sql.preparation";

// Annotations: "annotation.<key>" with the value's own type (string, bool, int or double).
inline constexpr std::string_view kAnnotationPrefix = "annotation.";
// Metadata: "aws.xray.metadata.<namespace>" = the namespace's object as JSON text.
inline constexpr std::string_view kMetadataPrefix = "aws.xray.metadata.";

}  // namespace ariadne::model::xray
