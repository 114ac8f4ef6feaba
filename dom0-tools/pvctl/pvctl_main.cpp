// pvctl: the xl-style command-line client of pvd. Wires the real environment (stdio, the
// control socket, the pvd launcher) and dispatches to the command table.
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>

#include "dom0-tools/pvctl/commands.h"
#include "dom0-tools/pvctl/pvd_launcher.h"
#include "dom0-tools/pvd/exit_codes.h"
#include "dom0-tools/pvd/runtime_dir.h"
#include "dom0-tools/pvd/sys_error.h"

namespace {

using namespace pvhv;
using namespace pvhv::dom0;

Result<std::string> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return fail_sys("cannot read " + path);
    std::ostringstream s;
    s << f.rdbuf();
    if (f.bad()) return fail_sys("cannot read " + path);
    return s.str();
}

int run(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) {
        std::cerr << "pvctl: cannot determine the working directory\n";
        return 1;
    }
    UnixConnector connector(default_runtime_dir(),
                            [](const std::string& dir) { return start_pvd(dir); });
    CliEnv env{std::cout, std::cerr, connector, cwd, STDIN_FILENO, read_file};
    const int rc = dispatch(pvctl_commands(), args, env);
    std::cout.flush();
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "pvctl: internal error: " << e.what() << "\n";
        return argc > 1 && std::string_view(argv[1]) == "create" ? kExitCreateFailed : kExitFailure;
    }
}
