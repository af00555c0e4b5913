// X-Ray segment documents come back from BatchGetTraces as they were sent (issue 15, "Documents as
// sent"), through the real `ariadne serve`: documents shaped like those the Java, Go, .NET, Python
// and Node SDKs send — full segments with embedded subsegments, independently sent subsegments
// (one per document and as a top-level array), an in-progress segment replaced by its final
// version, and a datagram on the daemon's UDP port — are compared field by field (parsed JSON
// equal) after PutTraceSegments, in the head, after a kill -9 (WAL replay), after a clean stop
// (sealed block) and after compaction merged the blocks of two runs.
//
// Usage: xray_documents_server_test --ariadne=/path/to/build/bin/ariadne
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "tests/common/server_process.h"
#include "tests/common/server_test_main.h"

namespace ariadne::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string g_ariadne;

std::string Replace(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
      text.replace(at, key.size(), value);
      at += value.size();
    }
  }
  return text;
}

std::string Fixed(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", seconds);
  return buf;
}

// One trace: what was sent, in order, and the segments BatchGetTraces must return (by id).
struct TraceCase {
  std::string name;
  std::string trace_id;
  std::vector<std::string> round1;  // PutTraceSegments documents of the first run
  std::vector<std::string> round2;  // ... of the second run (after a seal)
  std::vector<std::string> udp;     // datagram bodies for the daemon port (first run)
  // Segment id → the expected document after round 1 and after round 2.
  std::map<std::string, json> expect1, expect2;
  std::string verbatim_id;  // a segment whose Document text must equal verbatim_text exactly
  std::string verbatim_text;
};

// Appends `sub` to the `subsegments` of the node with id `parent` inside `doc`.
bool Splice(json& doc, const std::string& parent, const json& sub) {
  if (!doc.is_object()) return false;
  if (doc.value("id", "") == parent) {
    doc["subsegments"].push_back(sub);
    return true;
  }
  if (!doc.contains("subsegments")) return false;
  for (json& child : doc["subsegments"]) {
    if (Splice(child, parent, sub)) return true;
  }
  return false;
}

class XrayDocumentsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("xray-docs-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Every span in one hour that ended more than 10 minutes ago, so compaction may merge the
    // blocks of two runs.
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    base_ = std::floor(now / 3600) * 3600 - 2 * 3600 + 300;
  }
  void TearDown() override {
    if (server_.running()) server_.Kill();
    fs::remove_all(dir_);
  }

  void Start() { server_ = ServerProcess::Start(g_ariadne, (dir_ / "data").string()); }

  net::ClientResponse XrayPost(const std::string& path, const json& body) {
    net::HttpClient client("127.0.0.1", server_.ports().xray);
    auto response =
        client.Request("POST", path, {{"Content-Type", "application/json"}}, body.dump());
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? std::move(response).value() : net::ClientResponse{};
  }

  void Put(const std::vector<std::string>& documents) {
    if (documents.empty()) return;
    net::ClientResponse r = XrayPost("/TraceSegments", {{"TraceSegmentDocuments", documents}});
    ASSERT_EQ(r.status, 200) << r.body;
    json body = json::parse(r.body);
    ASSERT_TRUE(body["UnprocessedTraceSegments"].empty()) << r.body;
  }

  void SendUdp(const std::string& document) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server_.ports().xray);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const std::string datagram = "{\"format\":\"json\",\"version\":1}\n" + document;
    ASSERT_EQ(::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&addr),
                       sizeof addr),
              static_cast<ssize_t>(datagram.size()));
    ::close(fd);
  }

  // BatchGetTraces for one trace: Segment id → {Document text}.
  std::map<std::string, std::string> Fetch(const std::string& trace_id) {
    net::ClientResponse r = XrayPost("/Traces", {{"TraceIds", {trace_id}}});
    EXPECT_EQ(r.status, 200) << r.body;
    json body = json::parse(r.body, nullptr, false);
    std::map<std::string, std::string> out;
    if (!body.is_object() || body["Traces"].size() != 1) return out;
    for (const json& segment : body["Traces"][0]["Segments"]) {
      const std::string id = segment["Id"];
      EXPECT_EQ(out.count(id), 0u) << "segment " << id << " returned twice";
      out[id] = segment["Document"];
    }
    return out;
  }

  // Waits (the UDP path is asynchronous) until the trace holds `expect`, then compares each
  // document parsed, and checks that no embedded or spliced subsegment came back on its own.
  void Check(const TraceCase& c, const std::map<std::string, json>& expect, const char* stage) {
    SCOPED_TRACE(c.name + " / " + stage);
    std::map<std::string, std::string> got;
    for (int attempt = 0; attempt < 200; ++attempt) {
      got = Fetch(c.trace_id);
      size_t real = 0;
      for (const auto& [id, text] : got) {
        json doc = json::parse(text, nullptr, false);
        if (doc.is_object() && !doc.value("inferred", false)) ++real;
      }
      if (real >= expect.size()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::set<std::string> real_ids;
    for (const auto& [id, text] : got) {
      json doc = json::parse(text, nullptr, false);
      ASSERT_TRUE(doc.is_object()) << text;
      if (doc.value("inferred", false)) continue;  // X-Ray's inferred downstream nodes
      real_ids.insert(id);
      auto it = expect.find(id);
      ASSERT_NE(it, expect.end()) << "unexpected segment " << id << ": " << text;
      EXPECT_EQ(doc, it->second) << "segment " << id << "\n got:  " << doc.dump()
                                 << "\n want: " << it->second.dump();
    }
    for (const auto& [id, doc] : expect) {
      EXPECT_TRUE(real_ids.count(id)) << "segment " << id << " is missing";
    }
    if (!c.verbatim_id.empty() && got.count(c.verbatim_id)) {
      EXPECT_EQ(got[c.verbatim_id], c.verbatim_text) << "the document's text as sent";
    }
  }

  uint64_t Metric(const std::string& name) {
    net::HttpClient client("127.0.0.1", server_.ports().http);
    auto response = client.Request("GET", "/metrics", {});
    if (!response.ok()) return 0;
    const std::string& text = response->body;
    size_t at = text.find("\n" + name + " ");
    if (at == std::string::npos) return 0;
    return std::stoull(text.substr(at + name.size() + 2));
  }

  std::vector<TraceCase> Cases();

  fs::path dir_;
  double base_ = 0;
  ServerProcess server_;
};

std::vector<TraceCase> XrayDocumentsServerTest::Cases() {
  std::vector<TraceCase> cases;
  char trace_prefix[16];
  std::snprintf(trace_prefix, sizeof trace_prefix, "1-%08llx-",
                static_cast<unsigned long long>(base_));
  auto trace = [&](int n) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%024x", 0xd0c5000 + n);
    return std::string(trace_prefix) + buf;
  };
  auto vars = [&](const std::string& trace_id) {
    return std::map<std::string, std::string>{
        {"{TRACE}", trace_id},         {"{T0}", Fixed(base_ + 1.25)}, {"{T1}", Fixed(base_ + 1.5)},
        {"{T2}", Fixed(base_ + 1.75)}, {"{T3}", Fixed(base_ + 2.0)},  {"{T4}", Fixed(base_ + 2.25)},
        {"{T9}", Fixed(base_ + 3.0)}};
  };

  // Java (aws-xray-recorder-sdk 2.x) on Elastic Beanstalk: EC2/EB/xray plugins, servlet filter,
  // a DynamoDB call, a JDBC query, an exception with a cause chain.
  {
    TraceCase c;
    c.name = "java";
    c.trace_id = trace(1);
    std::string segment = Replace(R"({
      "name": "scorekeep", "id": "a1a1a1a1a1a1a101", "start_time": {T0}, "trace_id": "{TRACE}",
      "end_time": {T9},
      "http": {"request": {"url": "http://scorekeep.elasticbeanstalk.com/api/game/7/move",
                           "method": "POST", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101",
                           "client_ip": "78.255.233.48", "x_forwarded_for": true
  }
  , "response" : { "status" : 500, "content_length" : 0 }
}
, "fault" : true,
            "error" : false,
                      "throttle" : false,
                                   "aws"
    : {
      "elastic_beanstalk" : {
        "version_label" : "app-5a56-170119_190650-stage-170119_190650",
        "deployment_id" : 25,
        "environment_name" : "scorekeep"
      },
      "ec2" : {
        "availability_zone" : "us-west-2c",
        "instance_id" : "i-0cd9e448944061b4a",
        "instance_size" : "t2.micro",
        "ami_id" : "ami-0b1e356e"
      },
      "xray" : {
        "sdk_version" : "2.14.0",
        "sdk" : "X-Ray for Java",
        "auto_instrumentation" : false,
        "sampling_rule_name" : "Default"
      }
    },
      "service"
    : {"runtime" : "OpenJDK 64-Bit Server VM", "runtime_version" : "17.0.8", "version" : "1.2.3"},
      "origin" : "AWS::ElasticBeanstalk::Environment",
                 "user" : "alice",
                          "annotations"
    : {"game" : "7", "moves" : 42, "ratio" : 0.25, "ranked" : true},
      "metadata" : {
        "default" : {"state" : {"board" : [ [ 1, 0 ], [ 0, 2 ] ], "winner" : null}},
        "AWS.SDK" :
            {"retries" : [ 0, 1 ], "big" : 18446744073709551615, "tiny" : -1.5e-7, "exp" : 1.0E+3}
      },
                   "cause"
    : {
      "working_directory" : "/var/app/current",
      "paths" : ["/var/app/current/lib/scorekeep.jar"],
      "exceptions" : [
        {
          "id" : "e1e1e1e1e1e1e101",
          "message" : "Move rejected",
          "type" : "scorekeep.RulesException",
          "remote" : false,
          "truncated" : 12,
          "skipped" : 2,
          "cause" : "e1e1e1e1e1e1e102",
          "stack" : [
            {
              "path" : "RulesFactory.java",
              "line" : 42,
              "label" : "scorekeep.RulesFactory.getRules"
            },
            {"path" : "MoveFactory.java", "line" : 9, "label" : "scorekeep.MoveFactory.newMove"}
          ]
        },
        {
          "id" : "e1e1e1e1e1e1e102",
          "message" : "timeout",
          "type" : "java.net.SocketTimeoutException",
          "remote" : true
        }
      ]
    },
      "subsegments" : [
        {
          "id" : "a1a1a1a1a1a1a102",
          "name" : "DynamoDB",
          "start_time" : {T1},
          "end_time" : {T2},
          "namespace" : "aws",
          "http" : {"response" : {"status" : 200, "content_length" : 61}},
          "aws" : {
            "table_name" : "scorekeep-state",
            "operation" : "UpdateItem",
            "request_id" : "UBQNSO5AEM8T4FDA4RQDEB94OVTDRVV4K4HIRGVJF66Q9ASUAAJG",
            "resource_names" : ["scorekeep-state"],
            "region" : "us-west-2",
            "retries" : 0,
            "account_id" : "123456789012"
          }
        },
        {
          "id" : "a1a1a1a1a1a1a103",
          "name" : "scorekeep@db.example.com",
          "start_time" : {T2},
          "end_time" : {T3},
          "namespace" : "remote",
          "sql" : {
            "url" : "jdbc:postgresql://db.example.com:5432/scorekeep",
            "preparation" : "statement",
            "database_type" : "PostgreSQL",
            "database_version" : "15.4",
            "driver_version" : "42.6.0",
            "user" : "dbuser",
            "sanitized_query" : "SELECT * FROM moves WHERE game = ?"
          },
          "subsegments" : [ {
            "id" : "a1a1a1a1a1a1a104",
            "name" : "decode",
            "start_time" : {T2},
            "end_time" : {T2},
            "in_progress" : false
          } ]
        }
      ]
})",
                                  vars(c.trace_id));
    c.round1 = {segment};
    c.expect1["a1a1a1a1a1a1a101"] = json::parse(segment);
    c.expect2 = c.expect1;
    cases.push_back(c);
  }

  // Go (aws-xray-sdk-go 1.x) on ECS: compiler in `service`, the ECS plugin's extra keys, the
  // http client's Connect/dial/tls subsegments with precursor_ids, subsegments streamed
  // separately (one after the segment in the first run, one in the second run, after a seal).
  {
    TraceCase c;
    c.name = "go";
    c.trace_id = trace(2);
    std::string segment = Replace(R"({"trace_id":"{TRACE}","id":"b2b2b2b2b2b2b201",
      "name":"SampleServer","start_time":{T0},"end_time":{T9},
      "http":{"request":{"method":"GET","url":"http://localhost:8000/","client_ip":"127.0.0.1",
                         "user_agent":"Go-http-client/1.1","x_forwarded_for":true},
              "response":{"status":200}},
      "aws":{"xray":{"sdk_version":"1.8.1","sdk":"X-Ray for Go"},
             "ecs":{"container":"ip-10-0-0-12","container_id":"d8453812a556",
                    "availability_zone":"us-west-2a",
                    "container_arn":"arn:aws:ecs:us-west-2:123456789012:container/abc",
                    "cluster_arn":"arn:aws:ecs:us-west-2:123456789012:cluster/main",
                    "task_arn":"arn:aws:ecs:us-west-2:123456789012:task/main/abc",
                    "task_family":"sample","launch_type":"FARGATE"},
             "eks":{"cluster_name":"c","pod":"p-1","container_id":"c-1"}},
      "service":{"compiler_version":"go1.21.5","compiler":"gc"},
      "origin":"AWS::ECS::Container",
      "subsegments":[{"id":"b2b2b2b2b2b2b202","name":"example.com","start_time":{T1},
        "end_time":{T2},"namespace":"remote",
        "http":{"request":{"method":"GET","url":"https://example.com/"},
                "response":{"status":200,"content_length":1256}},
        "subsegments":[{"id":"b2b2b2b2b2b2b203","name":"connect","start_time":{T1},
            "end_time":{T1},"metadata":{"http":{"connection":{"reused":false,"was_idle":false}}},
            "subsegments":[{"id":"b2b2b2b2b2b2b204","name":"dial","start_time":{T1},
                "end_time":{T1},"metadata":{"http":{"dial":{"network":"tcp",
                "address":"93.184.216.34:443"}}}}]},
          {"id":"b2b2b2b2b2b2b205","name":"tls","start_time":{T1},"end_time":{T1},
           "precursor_ids":["b2b2b2b2b2b2b203"],
           "metadata":{"http":{"tls":{"cipher_suite":49199,"did_resume":false,
             "negotiated_protocol":"h2","negotiated_protocol_is_mutual":true}}}}]}]})",
                                  vars(c.trace_id));
    std::string streamed1 = Replace(R"({"type":"subsegment","trace_id":"{TRACE}",
      "parent_id":"b2b2b2b2b2b2b201","id":"b2b2b2b2b2b2b206","name":"dynamodb",
      "start_time":{T2},"end_time":{T3},"namespace":"aws",
      "aws":{"operation":"ListTables","region":"us-west-2",
             "request_id":"3AIENM5J4ELQ3SPODHKBIRVIC3VV4KQNSO5AEMVJF66Q9ASUAAJG","retries":0},
      "http":{"response":{"status":200,"content_length":35}},
      "cause":{"working_directory":"/app","exceptions":[{"id":"f2f2f2f2f2f2f201",
        "type":"*awserr.requestError","message":"throttled","remote":true,
        "stack":[{"path":"github.com/aws/aws-xray-sdk-go/xray/capture.go","line":48,
                  "label":"Capture"}]}]},
      "throttle":true,"error":true})",
                                    vars(c.trace_id));
    std::string streamed2 = Replace(R"({"type":"subsegment","trace_id":"{TRACE}",
      "parent_id":"b2b2b2b2b2b2b202","id":"b2b2b2b2b2b2b207","name":"retry",
      "start_time":{T3},"end_time":{T4},"annotations":{"attempt":2}})",
                                    vars(c.trace_id));
    c.round1 = {segment, streamed1};
    c.round2 = {streamed2};
    json expect = json::parse(segment);
    Splice(expect, "b2b2b2b2b2b2b201", json::parse(streamed1));
    c.expect1["b2b2b2b2b2b2b201"] = expect;
    Splice(expect, "b2b2b2b2b2b2b202", json::parse(streamed2));
    c.expect2["b2b2b2b2b2b2b201"] = expect;
    cases.push_back(c);
  }

  // .NET (AWSXRayRecorder 2.x): runtime in `service`, the AWS SDK handler's S3 fields, a SQS
  // call with queue_url; sent on the UDP daemon port.
  {
    TraceCase c;
    c.name = "dotnet";
    c.trace_id = trace(3);
    std::string segment = Replace(R"({"id":"c3c3c3c3c3c3c301","trace_id":"{TRACE}",
      "start_time":{T0},"end_time":{T9},"name":"OrdersApi",
      "http":{"request":{"url":"https://orders.example.com/api/orders","method":"GET",
              "user_agent":"curl/8.4.0","client_ip":"10.0.0.5"},"response":{"status":404}},
      "error":true,
      "aws":{"xray":{"sdk_version":"2.14.0","sdk":"X-Ray for .NET Core"},
             "ec2":{"instance_id":"i-0abc","availability_zone":"eu-west-1b"}},
      "service":{"runtime":".NET Core Framework","runtime_version":".NET 8.0.0"},
      "origin":"AWS::EC2::Instance",
      "subsegments":[{"id":"c3c3c3c3c3c3c302","start_time":{T1},"end_time":{T2},"name":"S3",
        "namespace":"aws","http":{"response":{"status":200,"content_length":-1}},
        "aws":{"region":"eu-west-1","operation":"GetObject","bucket_name":"orders-archive",
               "key":"2024/01/order.json","request_id":"7A2B3C4D5E6F7A8B","id_2":"xYz=="}},
        {"id":"c3c3c3c3c3c3c303","start_time":{T2},"end_time":{T3},"name":"SQS",
         "namespace":"aws","aws":{"region":"eu-west-1","operation":"SendMessage",
         "queue_url":"https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
         "message_id":"d1f3a1c2"}}]})",
                                  vars(c.trace_id));
    c.udp = {json::parse(segment).dump()};
    c.expect1["c3c3c3c3c3c3c301"] = json::parse(segment);
    c.expect2 = c.expect1;
    cases.push_back(c);
  }

  // Python (aws-xray-sdk 2.x): every entity carries trace_id/type/parent_id and explicit
  // in_progress false; a Lambda-style in-progress segment first, replaced in the second run.
  {
    TraceCase c;
    c.name = "python";
    c.trace_id = trace(4);
    std::string in_progress = Replace(R"({"id":"d4d4d4d4d4d4d401","name":"backend-flask",
      "start_time":{T0},"in_progress":true,"trace_id":"{TRACE}",
      "aws":{"xray":{"sdk_version":"2.12.1","sdk":"X-Ray for Python"}},
      "service":{"runtime":"CPython","runtime_version":"3.11.2"}})",
                                      vars(c.trace_id));
    std::string final_doc = Replace(R"({"id":"d4d4d4d4d4d4d401","name":"backend-flask",
      "start_time":{T0},"in_progress":false,"trace_id":"{TRACE}","end_time":{T9},
      "http":{"request":{"url":"http://localhost:4567/api/activities/home","method":"GET",
              "user_agent":"Werkzeug/3.0.1","client_ip":"127.0.0.1"},
              "response":{"status":200,"content_length":2}},
      "aws":{"xray":{"sdk_version":"2.12.1","sdk":"X-Ray for Python"}},
      "service":{"runtime":"CPython","runtime_version":"3.11.2"},
      "annotations":{"page":"home"},
      "metadata":{"cruddur":{"rows":[1,2,3]}},
      "subsegments":[{"id":"d4d4d4d4d4d4d402","name":"mock-data","start_time":{T1},
        "parent_id":"d4d4d4d4d4d4d401","type":"subsegment","namespace":"local",
        "trace_id":"{TRACE}","in_progress":false,"end_time":{T2}}]})",
                                    vars(c.trace_id));
    c.round1 = {in_progress};
    c.round2 = {final_doc};
    c.expect1["d4d4d4d4d4d4d401"] = json::parse(in_progress);
    c.expect2["d4d4d4d4d4d4d401"] = json::parse(final_doc);
    cases.push_back(c);
  }

  // Node (aws-xray-sdk-core 3.x): the segment with service name/version/runtime, unknown fields,
  // exact number spellings (kept byte for byte: this document is sent minified), and a top-level
  // array of two independent subsegments whose parent never arrives.
  {
    TraceCase c;
    c.name = "node";
    c.trace_id = trace(5);
    char start_exp[64];
    std::snprintf(start_exp, sizeof start_exp, "%.15E", base_ + 1.25);
    std::string segment = Replace(
        R"({"trace_id":"{TRACE}","id":"e5e5e5e5e5e5e501","start_time":{TE},"name":"node-orders",)"
        R"("service":{"version":"1.0.0","runtime":"node","runtime_version":"v20.10.0",)"
        R"("name":"orders"},"aws":{"xray":{"sdk":"X-Ray for Node.js","sdk_version":"3.5.3",)"
        R"("package":"aws-xray-sdk"}},"end_time":{T9},"counter":1.50,"ratio":2E-3,)"
        R"("future_field":{"nested":[true,null,"\u00e9\n",{"x":-0.0}]},"subsegments":[)"
        R"({"id":"e5e5e5e5e5e5e502","name":"compute-price","start_time":{T1},)"
        R"("end_time":{T2},"annotations":{"vip":true},)"
        R"("metadata":{"default":{"rules":["bulk","loyalty"]}}}]})",
        [&] {
          auto v = vars(c.trace_id);
          v["{TE}"] = start_exp;
          return v;
        }());
    std::string orphans = Replace(R"([{"type":"subsegment","trace_id":"{TRACE}",
      "parent_id":"e5e5e5e5e5e5e5ff","id":"e5e5e5e5e5e5e503","name":"late-a",
      "start_time":{T2},"end_time":{T3}},
      {"type":"subsegment","trace_id":"{TRACE}","parent_id":"e5e5e5e5e5e5e503",
      "id":"e5e5e5e5e5e5e504","name":"late-b","start_time":{T3},"end_time":{T4},
      "namespace":"local"}])",
                                  vars(c.trace_id));
    c.round1 = {segment, orphans};
    c.verbatim_id = "e5e5e5e5e5e5e501";
    c.verbatim_text = segment;
    c.expect1["e5e5e5e5e5e5e501"] = json::parse(segment);
    json items = json::parse(orphans);
    json late_a = items[0];
    late_a["subsegments"].push_back(items[1]);  // its child, sent in the same array
    c.expect1["e5e5e5e5e5e5e503"] = late_a;
    c.expect2 = c.expect1;
    cases.push_back(c);
  }
  // A segment that ended before one of its subsegments (work outliving the request): the
  // segment embeds it in progress, its complete version comes later on its own and takes its
  // place, with a child of its own.
  {
    TraceCase c;
    c.name = "replaced-subsegment";
    c.trace_id = trace(6);
    std::string segment = Replace(R"({"name":"worker","id":"f6f6f6f6f6f6f601","trace_id":"{TRACE}",
      "start_time":{T0},"end_time":{T2},"subsegments":[{"name":"flush","id":"f6f6f6f6f6f6f602",
      "start_time":{T1},"in_progress":true},{"name":"done","id":"f6f6f6f6f6f6f603",
      "start_time":{T1},"end_time":{T2}}]})",
                                  vars(c.trace_id));
    std::string complete = Replace(R"({"type":"subsegment","name":"flush","id":"f6f6f6f6f6f6f602",
      "trace_id":"{TRACE}","parent_id":"f6f6f6f6f6f6f601","start_time":{T1},"end_time":{T4},
      "metadata":{"default":{"flushed":128}}})",
                                   vars(c.trace_id));
    std::string child = Replace(R"({"type":"subsegment","name":"upload","id":"f6f6f6f6f6f6f604",
      "trace_id":"{TRACE}","parent_id":"f6f6f6f6f6f6f602","start_time":{T3},"end_time":{T4}})",
                                vars(c.trace_id));
    c.round1 = {segment};
    c.round2 = {complete, child};
    c.expect1["f6f6f6f6f6f6f601"] = json::parse(segment);
    json expect = json::parse(segment);
    expect["subsegments"][0] = json::parse(complete);
    expect["subsegments"][0]["subsegments"].push_back(json::parse(child));
    c.expect2["f6f6f6f6f6f6f601"] = expect;
    cases.push_back(c);
  }
  return cases;
}

TEST_F(XrayDocumentsServerTest,
       EveryFieldOfSdkDocumentsRoundTripsThroughHeadWalBlocksAndCompaction) {
  std::vector<TraceCase> cases = Cases();

  // Run 1: the head.
  ASSERT_NO_FATAL_FAILURE(Start());
  for (const TraceCase& c : cases) {
    ASSERT_NO_FATAL_FAILURE(Put(c.round1));
    for (const std::string& doc : c.udp) ASSERT_NO_FATAL_FAILURE(SendUdp(doc));
  }
  for (const TraceCase& c : cases) Check(c, c.expect1, "head");

  // kill -9: the WAL is replayed into the head.
  server_.Kill();
  ASSERT_NO_FATAL_FAILURE(Start());
  for (const TraceCase& c : cases) Check(c, c.expect1, "WAL replay");

  // A clean stop seals the head into a block.
  ASSERT_EQ(server_.Stop(SIGTERM), 0);
  ASSERT_NO_FATAL_FAILURE(Start());
  for (const TraceCase& c : cases) Check(c, c.expect1, "sealed block");

  // Run 2: later documents of the same traces (a final version, a streamed subsegment) in the
  // head over the sealed block, then sealed into a second block.
  for (const TraceCase& c : cases) ASSERT_NO_FATAL_FAILURE(Put(c.round2));
  for (const TraceCase& c : cases) Check(c, c.expect2, "block + head");
  ASSERT_EQ(server_.Stop(SIGTERM), 0);

  // The next start compacts the two small blocks of that (past) hour into one.
  ASSERT_NO_FATAL_FAILURE(Start());
  uint64_t compactions = 0;
  for (int attempt = 0; attempt < 600 && compactions == 0; ++attempt) {
    compactions = Metric("ariadne_store_compactions_total");
    if (compactions == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(compactions, 1u) << "the two blocks were not compacted";
  for (const TraceCase& c : cases) Check(c, c.expect2, "compacted");
  ASSERT_EQ(server_.Stop(SIGTERM), 0);
}

// Spans that never came as X-Ray documents are rendered from the span model, as before: an OTLP
// trace on its own, and an OTLP child of an X-Ray segment in the same service, which is placed into
// that segment's stored document.
TEST_F(XrayDocumentsServerTest, OtlpSpansAreRenderedFromTheSpanModelAndPlacedUnderXraySegments) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  char trace_hex[33];
  std::snprintf(trace_hex, sizeof trace_hex, "%08llx0000000000000000000a7e01",
                static_cast<unsigned long long>(now));
  const std::string trace_id =
      std::string("1-") + std::string(trace_hex, 8) + "-" + std::string(trace_hex + 8);
  const std::string segment =
      R"({"name":"mixed","id":"a7a7a7a7a7a7a701","trace_id":")" + trace_id + R"(","start_time":)" +
      Fixed(now) + R"(,"end_time":)" + Fixed(now + 1) +
      R"(,"service":{"compiler":"gc"},"subsegments":[{"name":"x","id":"a7a7a7a7a7a7a702",)"
      R"("start_time":)" +
      Fixed(now + 0.1) + R"(,"end_time":)" + Fixed(now + 0.2) + "}]}";
  ASSERT_NO_FATAL_FAILURE(Put({segment}));
  auto nanos = [](double seconds) {
    return std::to_string(static_cast<unsigned long long>(seconds * 1e6) * 1000ull);
  };
  json otlp = {
      {"resourceSpans",
       {{{"resource",
          {{"attributes", {{{"key", "service.name"}, {"value", {{"stringValue", "mixed"}}}}}}}},
         {"scopeSpans",
          {{{"spans",
             {{{"traceId", trace_hex},
               {"spanId", "b7b7b7b7b7b7b701"},
               {"parentSpanId", "a7a7a7a7a7a7a701"},
               {"name", "otel-child"},
               {"kind", 1},
               {"startTimeUnixNano", nanos(now + 0.5)},
               {"endTimeUnixNano", nanos(now + 0.6)},
               {"attributes", {{{"key", "app.tier"}, {"value", {{"stringValue", "gold"}}}}}}}}}}}}},
        {{"resource",
          {{"attributes", {{{"key", "service.name"}, {"value", {{"stringValue", "otel-only"}}}}}}}},
         {"scopeSpans",
          {{{"spans",
             {{{"traceId", trace_hex},
               {"spanId", "c7c7c7c7c7c7c701"},
               {"parentSpanId", "b7b7b7b7b7b7b701"},
               {"name", "GET /items"},
               {"kind", 2},
               {"startTimeUnixNano", nanos(now + 0.52)},
               {"endTimeUnixNano", nanos(now + 0.58)},
               {"attributes",
                {{{"key", "http.request.method"}, {"value", {{"stringValue", "GET"}}}},
                 {{"key", "http.response.status_code"}, {"value", {{"intValue", "503"}}}},
                 {{"key", "app.tier"}, {"value", {{"stringValue", "gold"}}}}}}}}}}}}}}}};
  net::HttpClient client("127.0.0.1", server_.ports().otlp_http);
  auto posted =
      client.Request("POST", "/v1/traces", {{"Content-Type", "application/json"}}, otlp.dump());
  ASSERT_TRUE(posted.ok());
  ASSERT_EQ(posted->status, 200) << posted->body;

  std::map<std::string, std::string> got;
  for (int attempt = 0; attempt < 100 && got.size() < 2; ++attempt) {
    got = Fetch(trace_id);
    if (got.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(got.count("a7a7a7a7a7a7a701"), 1u);
  ASSERT_EQ(got.count("c7c7c7c7c7c7c701"), 1u);
  json mixed = json::parse(got["a7a7a7a7a7a7a701"]);
  json sent = json::parse(segment);
  ASSERT_EQ(mixed["subsegments"].size(), 2u) << mixed.dump();
  EXPECT_EQ(mixed["subsegments"][0], sent["subsegments"][0]);
  json child = mixed["subsegments"][1];
  EXPECT_EQ(child["name"], "otel-child");
  EXPECT_EQ(child["id"], "b7b7b7b7b7b7b701");
  EXPECT_EQ(child["metadata"]["otel"]["app.tier"], "gold");
  mixed["subsegments"].erase(1);
  EXPECT_EQ(mixed, sent) << "the X-Ray document itself is returned as sent";

  json rendered = json::parse(got["c7c7c7c7c7c7c701"]);
  EXPECT_EQ(rendered["name"], "otel-only");
  EXPECT_EQ(rendered["parent_id"], "b7b7b7b7b7b7b701");
  EXPECT_EQ(rendered["http"]["request"]["method"], "GET");
  EXPECT_EQ(rendered["http"]["response"]["status"], 503);
  EXPECT_EQ(rendered["fault"], true);
  EXPECT_EQ(rendered["metadata"]["otel"]["app.tier"], "gold");
  EXPECT_FALSE(rendered["metadata"]["otel"].contains("aws.xray.document"));
  ASSERT_EQ(server_.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
