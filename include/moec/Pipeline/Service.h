//===- Service.h - Size a serving system: pools, queues, KV transfer, cost --*- C++ -*-===//
//
// A `service` block (docs/serving.md) puts deploys in roles: a prefill pool and a decode pool (disaggregated), or
// one aggregated pool, each deploy being one instance. planService compiles each role's deploy through the same
// pipeline as a single compile (its strategy searched first when it searches), lowers a role's micro-batch when
// the declared one misses its SLO, and sizes every pool for the service's load with the queueing model of
// docs/serving.md: whole instances, the planned utilisation, TTFT and TPOT there, the KV each request carries from
// prefill to decode, and the cost per million tokens when a GPU-hour price is given.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_PIPELINE_SERVICE_H
#define MOEC_PIPELINE_SERVICE_H

#include "moec/Pipeline/Pipeline.h"
#include "moec/Pipeline/Search.h"

#include <memory>
#include <optional>

namespace moec {

/// The most instances a pool is sized to before moec calls the load unservable (docs/serving.md).
inline constexpr int64_t kMaxServiceInstances = 1000000;

/// One pool of a service: its instance's plan and how many instances the load needs.
struct ServiceRole {
  std::string role;                        ///< "prefill", "decode" or "aggregated"
  const DeploySpec *declared = nullptr;    ///< the deploy the service names
  const DeploySpec *deploy = nullptr;      ///< the one compiled: the declared, its search's winner, or a copy
  std::unique_ptr<SearchResult> search;    ///< when the deploy's strategy searches
  std::unique_ptr<WorkloadSpec> workload;  ///< the workload with a lowered micro_batch, when the SLO needed it
  std::unique_ptr<DeploySpec> lowered;     ///< the deploy pointing at it
  Compilation compiled;                    ///< the instance's plan (the decode plan of an aggregated pool)
  int64_t gpus = 0, nodes = 0;             ///< per instance
  int64_t microBatch = 0;                  ///< the micro-batch planned (the declared one unless lowered)
  double tokensPerSecond = 0;              ///< per instance: prefill tokens, or output tokens
  double stepLatency = 0;                  ///< the batch's TTFT (prefill) or TPOT (decode), from the forecast
  int64_t slots = 0;                       ///< decode: sequences one instance holds per step
  int64_t maxBatchPerGpu = 0;              ///< decode: the largest micro-batch its KV cache holds, per GPU
  std::string dominant;                    ///< the forecast's dominant term
  // An aggregated pool also prefills: its prefill, alone, per request.
  std::unique_ptr<WorkloadSpec> prefillWorkload;
  std::unique_ptr<DeploySpec> prefillDeploy;
  Compilation prefillCompiled;
  double prefillTokensPerSecond = 0, prefillLatency = 0, prefillShare = 0;
  double serviceRate = 0;                  ///< requests a second one instance serves at full utilisation
  int64_t instances = 0;
  double utilization = 0;                  ///< at the planned instance count
  double queueWait = 0;                    ///< mean wait before the role starts a request
};

struct ServiceResult {
  const ServiceSpec *service = nullptr;
  std::vector<ServiceRole> roles;          ///< prefill then decode, or the aggregated pool
  double requestsPerSecond = 0;
  double prefillTokensPerRequest = 0;      ///< input_length x (1 - prefix_cache_hit)
  double kvBytesPerRequest = 0, kvTransferSeconds = 0;
  const LinkSpec *kvLink = nullptr;
  double ttft = 0, tpot = 0, requestLatency = 0;
  int64_t gpus = 0, nodes = 0;
  std::optional<double> costPerHour, costPerMillionInput, costPerMillionOutput;
};

/// Select the service to plan: \p name, else the file's only service when no -deploy is given. Sets \p service
/// to null (and returns ok) when the file is to be compiled as a deploy instead.
Outcome selectService(const Spec &spec, llvm::StringRef name, llvm::StringRef deployName, llvm::StringRef inputName,
                      const ServiceSpec *&service);

/// Plan \p service; located errors for an SLO no batch meets (naming the role, the best it reaches and why), a
/// load beyond kMaxServiceInstances, and whatever a role's compile reports.
Outcome planService(const Spec &spec, const ServiceSpec &service, unsigned threads, DiagEngine &diags,
                    ServiceResult &result);

/// The service section of the report (text), then each role's report.
void printServiceReport(const ServiceResult &result, const DiagEngine &diags, llvm::raw_ostream &os);
/// The same for tools: {"service": {...}, "roles": {"prefill": <report>, ...}}.
void printServiceReportJson(const ServiceResult &result, const DiagEngine &diags, llvm::raw_ostream &os);

/// -emit=report (text or JSON), manifest and launch of a planned service; other emits are usage errors that name
/// the role deploys to compile one by one.
Outcome emitServiceOutputs(const ServiceResult &result, const EmitOptions &options, llvm::StringRef sourceText,
                           DiagEngine &diags, OutputSet &out);

} // namespace moec

#endif // MOEC_PIPELINE_SERVICE_H
