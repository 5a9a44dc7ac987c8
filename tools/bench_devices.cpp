// tether bench devices: the run (see bench_devices.hpp).
//
// Phases, all on one io_context and one thread:
//   1. identities (cached; bench_devices_identities.cpp), then N TLS connections;
//   2. the cloud: each device sends R writes a second for S seconds at QoS 1 and waits for
//      each PUBACK (latency = publish -> PUBACK). mosquitto acknowledges a device's write
//      when it has it, not when the cloud committed it, so the committed rate is measured
//      at the database: rows of this run, polled until all are there (or nothing moves for
//      --commit-wait seconds; the rest counts as lost). writes_per_s = committed / (first
//      publish -> the poll that saw the last row);
//   3. the ceiling: the same connections publishing as fast as their PUBACKs come back,
//      one in flight each, to ioto/service/ID/bench, which only a subscriber that does
//      nothing (the service's identity, another client id) reads.
// The service's CPU and memory come from /proc of `tether-cloud run DIR`.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_devices.hpp"
#include "bench_options.hpp"
#include "tether/client/client.hpp"

namespace tether::tools {

namespace {

namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr int memory_samples = 10;  // the service's memory, sampled evenly over the cloud phase

constexpr const char* usage =
    "Usage: tether bench devices --cloud DIR [--devices N] [--rate R] [--duration S]\n"
    "                            [--kind store|metric|mixed] [--ceiling S] [--identities FOLDER]\n"
    "                            [--provision-concurrency C] [--connect-concurrency C]\n"
    "                            [--commit-wait S] [--service-pid PID]\n"
    "  DIR: made by `tether-cloud init`, with `tether-cloud run DIR` running.\n"
    "  --rate 0: each device writes again as soon as its last write is acknowledged.\n"
    "  --ceiling 0 skips the raw-ceiling phase (default: as long as --duration).\n";

template <class T>
bool number(const std::string& s, T low, T high, T& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size() && out >= low && out <= high;
}

struct bench_run {
    bench_run(const devices_options& opts, asio::io_context& io) : o(opts), phase_over(io) {}
    const devices_options& o;
    std::vector<device_identity> ids;
    std::vector<std::unique_ptr<client::client>> clients;
    std::string tag;              // this run's keys "<tag>-<n>" and metric name
    std::vector<double> latencies_us;
    long sent_store = 0, sent_metric = 0, acked = 0;
    long busy = 0;
    asio::steady_timer phase_over;
    long errors = 0;
    std::string first_error;
    int service_pid = 0, broker_pid = 0;
    std::vector<std::uint64_t> service_rss;  // sampled during the cloud phase

    void finished() {
        if (--busy == 0) phase_over.cancel();
    }
    void fail(const std::string& what, std::error_code ec) {
        if (errors++ == 0) first_error = what + ": " + ec.message();
    }
};

asio::awaitable<void> join(bench_run& r) {
    while (r.busy != 0) {
        r.phase_over.expires_at(asio::steady_timer::time_point::max());
        co_await r.phase_over.async_wait(use_tuple);
    }
}

asio::awaitable<void> connector(bench_run& r, std::size_t& next) {
    while (next < r.clients.size()) {
        auto& c = *r.clients[next++];
        if (const auto ec = co_await c.connect()) r.fail("connect", ec);
    }
    r.finished();
}

// Message k of device i: a Store write with a key of its own (so that the database's row
// count tells what arrived), or a metric value of the run's metric.
bool is_metric(write_kind kind, long k) {
    return kind == write_kind::metric || (kind == write_kind::mixed && k % 2 == 1);
}

// The body of message k of device i, written into `out` (reused from write to write, so
// that the load generator spends its CPU on MQTT rather than on building JSON). The same
// bytes a JSON library would write with sorted keys; the tag is "bench<digits>" and the rest
// are integers, so nothing needs escaping.
void body(const bench_run& r, std::size_t i, long k, bool metric, std::string& out) {
    out.clear();
    if (metric) {
        out.append("{\"metric\":\"").append(r.tag).append("\",\"value\":");
    } else {
        out.append("{\"key\":\"").append(r.tag).append("-");
        out.append(std::to_string(i)).append("-").append(std::to_string(k));
        out.append("\",\"type\":\"number\",\"value\":");
    }
    out.append(std::to_string(k)).append("}");
}

// One device of the cloud phase (ceiling false) or of the ceiling phase (true).
asio::awaitable<void> device_writer(bench_run& r, std::size_t i, clock::time_point start, clock::time_point end,
                                    bool ceiling) {
    auto& c = *r.clients[i];
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const std::string& thing = r.ids[i].thing;
    const std::string store_topic = "ioto/service/" + thing + "/store/set";
    const std::string metric_topic = "ioto/service/" + thing + "/metric/set";
    const std::string ceiling_topic = "ioto/service/" + thing + "/bench";
    const bool paced = !ceiling && r.o.rate > 0;
    const auto period = paced ? std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(1.0 / r.o.rate))
                              : clock::duration::zero();
    // Device i starts i/N of a period late, so that the load is even rather than in bursts.
    const auto first = start + period * static_cast<long>(i) / static_cast<long>(r.clients.size());
    const long messages = paced ? static_cast<long>(static_cast<double>(r.o.duration_s) * r.o.rate) : -1;
    std::string payload;
    for (long k = 0; paced ? k < messages : clock::now() < end; ++k) {
        if (paced) {
            // Due times rounded up to whole milliseconds after the start: the devices due in
            // one millisecond wake together, one timer expiry for them all instead of one
            // each (at 20,000 writes/s, 20 per expiry).
            timer.expires_at(start + std::chrono::ceil<std::chrono::milliseconds>(first - start + period * k));
            co_await timer.async_wait(use_tuple);
        }
        const bool metric = !ceiling && is_metric(r.o.kind, k);
        body(r, i, k, metric, payload);
        const std::string& topic = ceiling ? ceiling_topic : metric ? metric_topic : store_topic;
        if (!ceiling) ++(metric ? r.sent_metric : r.sent_store);
        const auto t0 = clock::now();
        if (const auto ec = co_await c.publish(topic, payload, client::qos::at_least_once, client::wait::ack)) {
            r.fail("publish", ec);
            break;
        }
        ++r.acked;
        if (!ceiling) r.latencies_us.push_back(std::chrono::duration<double, std::micro>(clock::now() - t0).count());
    }
    r.finished();
}

asio::awaitable<void> disconnector(bench_run& r, client::client& c) {
    (void)co_await c.disconnect(std::chrono::seconds(10));
    r.finished();
}

// Samples the service's memory `memory_samples` times over the cloud phase.
asio::awaitable<void> memory_sampler(bench_run& r, clock::time_point start, double seconds) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (int s = 1; s <= memory_samples; ++s) {
        timer.expires_at(start + std::chrono::duration_cast<clock::duration>(
                                     std::chrono::duration<double>(seconds * s / memory_samples)));
        co_await timer.async_wait(use_tuple);
        if (const auto p = sample_process(r.service_pid); p.ok) r.service_rss.push_back(p.rss);
    }
}

struct phase_result {
    double seconds = 0;
    long acked = 0;
};

asio::awaitable<phase_result> write_phase(bench_run& r, asio::io_context& io, double seconds, bool ceiling) {
    const long acked0 = r.acked;
    const auto start = clock::now() + std::chrono::milliseconds(100);  // every writer scheduled first
    const auto end = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
    r.busy = static_cast<long>(r.clients.size());
    for (std::size_t i = 0; i < r.clients.size(); ++i) {
        asio::co_spawn(io, device_writer(r, i, start, end, ceiling), asio::detached);
    }
    if (!ceiling) asio::co_spawn(io, memory_sampler(r, start, seconds), asio::detached);
    co_await join(r);
    phase_result p;
    p.seconds = std::chrono::duration<double>(clock::now() - start).count();
    p.acked = r.acked - acked0;
    co_return p;
}

struct commit_result {
    committed_count counted;
    double until_last_s = 0;  // from the first publish to the poll that saw the last row
    double lag_s = 0;         // from the end of publishing to that poll
};

// Polls the database until it holds every write of the run, or shows no progress for
// --commit-wait seconds.
asio::awaitable<commit_result> wait_for_commits(bench_run& r, database_counter& db, clock::time_point start,
                                                clock::time_point published) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    commit_result out;
    std::int64_t last_total = -1;
    auto last_progress = clock::now();
    for (;;) {
        const auto now = clock::now();
        out.counted = db.count(r.tag);
        const std::int64_t total = out.counted.store_rows + out.counted.metric_points;
        if (total != last_total) {
            last_total = total;
            last_progress = now;
            out.until_last_s = std::chrono::duration<double>(now - start).count();
            out.lag_s = std::chrono::duration<double>(now - published).count();
        }
        if (out.counted.store_rows >= r.sent_store && out.counted.metric_points >= r.sent_metric) break;
        if (now - last_progress > std::chrono::seconds(r.o.commit_wait_s)) break;
        timer.expires_after(std::chrono::milliseconds(50));
        co_await timer.async_wait(use_tuple);
    }
    co_return out;
}

// The raw ceiling: a subscriber with the service's identity that does nothing, and the
// devices publishing as fast as they are acknowledged.
asio::awaitable<std::optional<phase_result>> ceiling_phase(bench_run& r, asio::io_context& io) {
    const fs::path dir = r.o.cloud;
    client::options o = r.ids.front().options;
    o.client_id = "tether-bench-sink-" + std::to_string(::getpid());
    o.tls.cert_file = (dir / "service" / "service.crt").string();
    o.tls.key_file = (dir / "service" / "service.key").string();
    o.tls.ca_file = (dir / "service" / "ca.crt").string();
    o.max_pending_acks = 65'000;
    client::client sink(io.get_executor(), o);
    if (const auto ec = co_await sink.connect()) {
        r.fail("the ceiling's subscriber: connect", ec);
        co_return std::nullopt;
    }
    long received = 0;
    client::subscription s("ioto/service/+/bench", client::qos::at_least_once,
                           [&received](const client::message&) { ++received; });
    const auto sub = co_await sink.subscribe(std::move(s));
    if (sub.ec) {
        r.fail("the ceiling's subscriber: subscribe", sub.ec);
        co_return std::nullopt;
    }
    const auto p = co_await write_phase(r, io, static_cast<double>(r.o.ceiling_s), true);
    (void)co_await sink.disconnect(std::chrono::seconds(10));
    co_return p;
}

// CPU microseconds per write (or message); 0 when there were none.
double per_write(double cpu_s, std::int64_t writes) {
    return writes > 0 ? 1e6 * cpu_s / static_cast<double>(writes) : 0.0;
}

double mb(std::uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

asio::awaitable<void> run(bench_run& r, asio::io_context& io, int& status) {
    const database_settings dbs = read_database_settings(r.o.cloud);
    database_counter db(dbs.url);
    const fs::path folder = r.o.identities.empty() ? r.o.cloud / "bench-devices" : r.o.identities;
    identities_report idr;
    r.ids = co_await prepare_identities(io.get_executor(), r.o.cloud, folder, r.o.devices,
                                        r.o.provision_concurrency, idr);
    if (!idr.error.empty()) {
        std::cerr << "Error: provisioning: " << idr.error << "\n";
        status = 1;
        co_return;
    }
    std::fprintf(stderr, "# %ld identities ready in %s (%ld provisioned now, %ld cached) in %.1f s\n", r.o.devices,
                 folder.c_str(), idr.provisioned, idr.cached, idr.seconds);

    const auto svc_base = sample_process(r.service_pid);
    const auto t_connect = clock::now();
    for (const auto& id : r.ids) r.clients.push_back(std::make_unique<client::client>(io.get_executor(), id.options));
    std::size_t next = 0;
    r.busy = std::min<long>(r.o.connect_concurrency, static_cast<long>(r.clients.size()));
    const long connectors = r.busy;
    for (long w = 0; w < connectors; ++w) asio::co_spawn(io, connector(r, next), asio::detached);
    co_await join(r);
    const double connect_s = std::chrono::duration<double>(clock::now() - t_connect).count();
    if (r.errors != 0) {
        std::cerr << "Error: " << r.errors << " connections failed, the first with " << r.first_error << "\n";
        status = 1;
        co_return;
    }
    // The broker tells the service of each connection (its log on $SYS): let it catch up
    // before measuring memory per connected device. A measurement pause, not a condition.
    asio::steady_timer pause(io, std::chrono::seconds(2));
    co_await pause.async_wait(use_tuple);
    const auto svc_connected = sample_process(r.service_pid);

    // The cloud phase.
    r.tag = "bench" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
    r.latencies_us.reserve(static_cast<std::size_t>(static_cast<double>(r.o.devices * r.o.duration_s) *
                                                    (r.o.rate > 0 ? r.o.rate : 1.0)));
    const auto svc0 = sample_process(r.service_pid);
    const auto brk0 = sample_process(r.broker_pid);
    const double cpu0 = cpu_seconds();
    const auto start = clock::now();
    const auto cloud = co_await write_phase(r, io, static_cast<double>(r.o.duration_s), false);
    const auto published = clock::now();
    const double bench_cpu = cpu_seconds() - cpu0;
    const auto commits = co_await wait_for_commits(r, db, start, published);
    const auto svc1 = sample_process(r.service_pid);
    const auto brk1 = sample_process(r.broker_pid);

    std::optional<phase_result> ceiling;
    const auto brk_c0 = sample_process(r.broker_pid);
    if (r.o.ceiling_s > 0 && r.errors == 0) ceiling = co_await ceiling_phase(r, io);
    const auto brk_c1 = sample_process(r.broker_pid);

    const long sent = r.sent_store + r.sent_metric;
    const std::int64_t got_store = std::min<std::int64_t>(commits.counted.store_rows, r.sent_store);
    const std::int64_t got_metric = std::min<std::int64_t>(commits.counted.metric_points, r.sent_metric);
    const std::int64_t committed = got_store + got_metric;
    const std::int64_t lost = sent - committed;
    // A Store row is one per key, so a write delivered twice shows only in the metric points.
    const std::int64_t dups = std::max<std::int64_t>(0, commits.counted.metric_points - r.sent_metric);
    const double window = commits.until_last_s > 0 ? commits.until_last_s : cloud.seconds;
    const double writes_per_s = static_cast<double>(committed) / window;
    const double ceiling_per_s = ceiling ? static_cast<double>(ceiling->acked) / ceiling->seconds : 0;
    const double svc_cpu = svc1.cpu_s - svc0.cpu_s;
    const double brk_cpu = brk1.cpu_s - brk0.cpu_s;
    const double per_device = svc_connected.ok && svc_base.ok
                                  ? (static_cast<double>(svc_connected.rss) - static_cast<double>(svc_base.rss)) /
                                        static_cast<double>(r.o.devices)
                                  : 0;
    const double per_series = commits.counted.metric_series > 0
                                  ? (static_cast<double>(svc1.rss) - static_cast<double>(svc_connected.rss)) /
                                        static_cast<double>(commits.counted.metric_series)
                                  : 0;
    const std::uint64_t rss_first = r.service_rss.empty() ? svc0.rss : r.service_rss.front();
    const std::uint64_t rss_last = r.service_rss.empty() ? svc1.rss : r.service_rss.back();
    auto& lat = r.latencies_us;
    const char* kinds[] = {"store", "metric", "mixed"};
    std::printf(
        "bench=devices engine=%s kind=%s devices=%ld rate=%g duration_s=%ld sent=%ld committed=%lld "
        "writes_per_s=%.0f ceiling_per_s=%.0f ratio=%.2f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
        "lost=%lld dups=%lld commit_lag_s=%.2f svc_cpu_pct=%.0f svc_cpu_us_per_write=%.1f broker_cpu_pct=%.0f "
        "broker_cpu_us_per_write=%.1f ceiling_broker_cpu_us_per_msg=%.1f bench_cpu_pct=%.0f bench_cpu_us_per_write=%.1f "
        "svc_rss_MB=%.1f svc_rss_per_device_B=%.0f svc_rss_per_series_B=%.0f "
        "svc_rss_first_MB=%.1f svc_rss_last_MB=%.1f connect_s=%.1f errors=%ld\n",
        dbs.engine.c_str(), kinds[static_cast<int>(r.o.kind)], r.o.devices, r.o.rate, r.o.duration_s, sent,
        static_cast<long long>(committed), writes_per_s, ceiling_per_s,
        ceiling_per_s > 0 ? writes_per_s / ceiling_per_s : 0.0, percentile(lat, 50) / 1000, percentile(lat, 90) / 1000,
        percentile(lat, 99) / 1000, percentile(lat, 100) / 1000, static_cast<long long>(lost),
        static_cast<long long>(dups), commits.lag_s, 100 * svc_cpu / window,
        per_write(svc_cpu, committed), 100 * brk_cpu / window, per_write(brk_cpu, committed),
        ceiling ? per_write(brk_c1.cpu_s - brk_c0.cpu_s, ceiling->acked) : 0.0, 100 * bench_cpu / cloud.seconds,
        per_write(bench_cpu, cloud.acked), mb(svc1.rss), per_device, per_series, mb(rss_first), mb(rss_last),
        connect_s, r.errors);
    std::fflush(stdout);
    if (r.errors != 0) {
        std::cerr << "Error: " << r.errors << " operations failed, the first with " << r.first_error << "\n";
        status = 1;
    }
    if (lost != 0) {
        std::cerr << "Error: " << lost << " acknowledged writes are not in the database\n";
        status = 1;
    }
    r.busy = static_cast<long>(r.clients.size());
    for (auto& c : r.clients) asio::co_spawn(io, disconnector(r, *c), asio::detached);
    co_await join(r);
}

// run(), with what it throws (a database or identity folder it cannot use) said on stderr.
asio::awaitable<void> run_guarded(bench_run& r, asio::io_context& io, int& status) {
    try {
        co_await run(r, io, status);
    } catch (const std::exception& e) {
        std::cerr << "Error: " << e.what() << "\n";
        status = 1;
    }
}

}  // namespace

bool parse_devices_options(const std::vector<std::string>& args, devices_options& o) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            std::cerr << usage;
            return false;
        }
        if (i + 1 >= args.size()) {
            std::cerr << "Error: " << a << " needs a value.\n" << usage;
            return false;
        }
        const std::string& v = args[++i];
        long n = 0;
        bool ok = true;
        if (a == "--cloud") {
            o.cloud = v;
        } else if (a == "--devices") {
            ok = number(v, 1L, 1'000'000L, o.devices);
        } else if (a == "--rate") {
            ok = number(v, 0.0, 1e6, o.rate);
        } else if (a == "--duration") {
            ok = number(v, 1L, 86'400L, o.duration_s);
        } else if (a == "--ceiling") {
            ok = number(v, 0L, 86'400L, o.ceiling_s);
        } else if (a == "--kind") {
            if (v == "store") o.kind = write_kind::store;
            else if (v == "metric") o.kind = write_kind::metric;
            else if (v == "mixed") o.kind = write_kind::mixed;
            else ok = false;
        } else if (a == "--identities") {
            o.identities = v;
        } else if (a == "--provision-concurrency") {
            ok = number(v, 1L, 1024L, o.provision_concurrency);
        } else if (a == "--connect-concurrency") {
            ok = number(v, 1L, 4096L, o.connect_concurrency);
        } else if (a == "--commit-wait") {
            ok = number(v, 1L, 3600L, o.commit_wait_s);
        } else if (a == "--service-pid") {
            ok = number(v, 1L, 1L << 30, n), o.service_pid = static_cast<int>(n);
        } else {
            std::cerr << "Error: Unknown option '" << a << "'.\n" << usage;
            return false;
        }
        if (!ok) {
            std::cerr << "Error: Invalid value for " << a << ": " << v << "\n";
            return false;
        }
    }
    if (o.cloud.empty()) {
        std::cerr << "Error: --cloud DIR is required.\n" << usage;
        return false;
    }
    if (o.ceiling_s < 0) o.ceiling_s = o.duration_s;
    return true;
}

int run_bench_devices(const std::vector<std::string>& args) {
    devices_options o;
    if (!parse_devices_options(args, o)) return 1;
    std::error_code ec;
    o.cloud = fs::canonical(o.cloud, ec);
    if (ec || !fs::exists(o.cloud / "cloud.json5")) {
        std::cerr << "Error: --cloud " << o.cloud.string() << ": no deployment there (tether-cloud init DIR)\n";
        return 1;
    }
    const std::uint64_t files = raise_open_file_limit();
    if (files < static_cast<std::uint64_t>(o.devices) + 64) {
        std::cerr << "Error: " << o.devices << " connections need more open files than the limit of " << files
                  << " (raise the hard limit: ulimit -Hn)\n";
        return 1;
    }
    asio::io_context io(1);
    bench_run r(o, io);
    r.service_pid = o.service_pid != 0 ? o.service_pid : find_service_pid(o.cloud);
    if (r.service_pid == 0) {
        std::cerr << "Error: no `tether-cloud run " << o.cloud.string() << "` is running (or give --service-pid)\n";
        return 1;
    }
    r.broker_pid = find_broker_pid(o.cloud);
    int status = 0;
    return run_to_completion(io, run_guarded(r, io, status), status);
}

}  // namespace tether::tools
