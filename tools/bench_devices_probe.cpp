// What `tether bench devices` observes from outside the simulated devices: the service's
// and the broker's CPU and memory (/proc), and what the database holds of this run.

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "bench_devices.hpp"
#include "metrics/series.hpp"
#include "storage/connection.hpp"
#include "tether/json5/json5.hpp"

namespace tether::tools {

namespace {

namespace fs = std::filesystem;

// The NUL-separated arguments of /proc/PID/cmdline.
std::vector<std::string> command_line(const fs::path& proc_dir) {
    std::ifstream in(proc_dir / "cmdline", std::ios::binary);
    std::vector<std::string> args;
    std::string a;
    while (std::getline(in, a, '\0')) args.push_back(a);
    return args;
}

bool same_dir(const fs::path& a, const fs::path& b) {
    std::error_code e1, e2;
    const auto ca = fs::canonical(a, e1), cb = fs::canonical(b, e2);
    return !e1 && !e2 && ca == cb;
}

}  // namespace

process_sample sample_process(int pid) {
    process_sample s;
    if (pid <= 0) return s;
    const std::string base = "/proc/" + std::to_string(pid);
    std::ifstream stat(base + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return s;
    // The command name (field 2) is in parentheses and may hold spaces: fields count from
    // the last ')'. utime and stime are fields 14 and 15.
    const auto close = line.rfind(')');
    if (close == std::string::npos) return s;
    std::istringstream fields(line.substr(close + 2));
    std::string skip;
    for (int f = 3; f < 14; ++f) fields >> skip;
    unsigned long long utime = 0, stime = 0;
    if (!(fields >> utime >> stime)) return s;
    std::ifstream statm(base + "/statm");
    unsigned long long size = 0, resident = 0;
    if (!(statm >> size >> resident)) return s;
    s.ok = true;
    s.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    s.rss = resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    return s;
}

int find_service_pid(const fs::path& cloud_dir) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        const auto args = command_line(entry.path());
        if (args.size() < 3 || fs::path(args[0]).filename() != "tether-cloud" || args[1] != "run") continue;
        std::error_code cwd_error;
        const fs::path cwd = fs::read_symlink(entry.path() / "cwd", cwd_error);
        if (cwd_error) continue;
        const fs::path dir = fs::path(args[2]).is_absolute() ? fs::path(args[2]) : cwd / args[2];
        if (same_dir(dir, cloud_dir)) return std::stoi(name);
    }
    return 0;
}

int find_broker_pid(const fs::path& cloud_dir) {
    std::ifstream in(cloud_dir / "broker" / "mosquitto.pid");
    int pid = 0;
    if (!(in >> pid) || pid <= 0) return 0;
    return sample_process(pid).ok ? pid : 0;
}

database_settings read_database_settings(const fs::path& cloud_dir) {
    const nlohmann::json settings = json5::parse_file(cloud_dir / "cloud.json5");
    const auto db = settings.find("database");
    if (db == settings.end() || !db->is_object()) throw std::runtime_error("cloud.json5 has no database section");
    database_settings out;
    out.engine = db->value("engine", std::string("sqlite"));
    if (out.engine == "sqlite") {
        out.url = "sqlite:" + (cloud_dir / db->value("path", std::string("cloud.db"))).string();
    } else if (out.engine == "postgresql") {
        out.url = db->value("url", std::string());
        if (out.url.empty()) throw std::runtime_error("cloud.json5: database.url is missing");
    } else {
        throw std::runtime_error("cloud.json5: database.engine must be 'sqlite' or 'postgresql'");
    }
    return out;
}

struct database_counter::impl {
    std::unique_ptr<cloud::storage::connection> db;
};

database_counter::database_counter(const std::string& url) : impl_(std::make_unique<impl>()) {
    auto c = cloud::storage::connect(url);
    if (!c) throw std::runtime_error("cannot open the database: " + c.err().message);
    impl_->db = std::move(c.value());
}

database_counter::~database_counter() = default;

committed_count database_counter::count(const std::string& tag) {
    committed_count out;
    // Keys "<tag>-<n>": a range on the key rather than LIKE, whose case rules differ
    // between the engines ('.' sorts after '-').
    const std::string low = tag + "-", high = tag + ".";
    const std::vector<cloud::storage::sql_value> keys{low, high};
    const auto store = impl_->db->execute("SELECT COUNT(*) FROM store_items WHERE item_key >= $1 AND item_key < $2", keys);
    if (!store.empty()) out.store_rows = store[0].integer(0);
    // The coarsest span (30-day points) keeps 13 months: no point of a run is pruned from it.
    const auto coarsest = static_cast<std::int64_t>(cloud::metrics::span_shapes.size() - 1);
    const std::vector<cloud::storage::sql_value> metric{tag, coarsest};
    const auto points = impl_->db->execute(
        "SELECT COALESCE(SUM(p.point_count), 0), COUNT(DISTINCT s.series_key) FROM metric_points p "
        "JOIN metric_series s ON s.series_key = p.series_key WHERE s.metric = $1 AND p.span = $2",
        metric);
    if (!points.empty()) {
        out.metric_points = points[0].integer(0);
        out.metric_series = points[0].integer(1);
    }
    return out;
}

}  // namespace tether::tools
