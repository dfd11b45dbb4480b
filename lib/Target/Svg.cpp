//===- Svg.cpp - Render DOT to SVG with Graphviz's library ----------------===//
//
// moec links Graphviz's gvc library (Debian's libgraphviz-dev) rather than running the `dot` program. When it
// was built without it, -emit=svg says how to get it.
//
//===----------------------------------------------------------------------===//
#include "moec/Target/DotGraph.h"

#ifdef MOEC_HAVE_GRAPHVIZ
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <cerrno>
#include <sys/wait.h>
#include <unistd.h>
#endif

using namespace moec;

#ifdef MOEC_HAVE_GRAPHVIZ
namespace {

/// Lay out and render in this process (see renderSvg for why it runs in a child).
bool renderHere(const std::string &dot, std::string &svg, std::string &error) {
  GVC_t *gvc = gvContext();
  if (!gvc) {
    error = "Graphviz could not start";
    return false;
  }
  agseterr(AGMAX); // moec reports failures itself
  Agraph_t *graph = agmemread(dot.c_str());
  if (!graph) {
    gvFreeContext(gvc);
    error = "Graphviz could not read the view";
    return false;
  }
  bool ok = gvLayout(gvc, graph, "dot") == 0;
  char *data = nullptr;
  unsigned int length = 0; // Graphviz 2.43 takes unsigned int; later versions size_t
  if (ok)
    ok = gvRenderData(gvc, graph, "svg", &data, &length) == 0;
  if (ok)
    svg.assign(data, length);
  else
    error = "Graphviz could not lay out or render the view";
  if (data)
    gvFreeRenderData(data);
  gvFreeLayout(gvc, graph);
  agclose(graph);
  gvFreeContext(gvc);
  return ok;
}

} // namespace
#endif

bool moec::renderSvg(const std::string &dot, std::string &svg, std::string &error) {
#ifdef MOEC_HAVE_GRAPHVIZ
  // Graphviz 2.43's dot layout keeps state between layouts in one process, and a layout after another is not the
  // same bytes from run to run. Each view is laid out in a child forked from a process that has laid out nothing,
  // so every layout starts as a fresh `dot` would: the same bytes every time.
  int fds[2];
  if (pipe(fds) != 0)
    return renderHere(dot, svg, error);
  pid_t child = fork();
  if (child < 0) {
    close(fds[0]);
    close(fds[1]);
    return renderHere(dot, svg, error);
  }
  if (child == 0) {
    close(fds[0]);
    std::string out, why;
    bool ok = renderHere(dot, out, why);
    const std::string &message = ok ? out : why;
    const char *p = message.data();
    for (size_t left = message.size(); left > 0;) {
      ssize_t n = write(fds[1], p, left);
      if (n <= 0)
        _exit(3);
      p += n;
      left -= size_t(n);
    }
    close(fds[1]);
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  std::string received;
  char buffer[1 << 16];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    received.append(buffer, size_t(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    svg = std::move(received);
    return true;
  }
  error = WIFEXITED(status) && WEXITSTATUS(status) == 1 ? received
                                                        : "Graphviz stopped while laying out the view";
  return false;
#else
  (void)dot;
  (void)svg;
  error = "this moec was built without Graphviz's library: install Debian's libgraphviz-dev and rebuild, or use "
          "-emit=dot and run `dot -Tsvg`";
  return false;
#endif
}
