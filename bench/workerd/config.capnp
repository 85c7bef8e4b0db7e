# workerd reference servers for bench/workerd.mjs: a stateless echo ("echo" socket) and a
# Durable Object counter ("counter" socket). The bench sets the addresses with --socket-addr.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "echo", worker = .echoWorker),
    (name = "counter", worker = .counterWorker),
  ],
  sockets = [
    (name = "echo", address = "127.0.0.1:8081", http = (), service = "echo"),
    (name = "counter", address = "127.0.0.1:8082", http = (), service = "counter"),
  ],
);

const echoWorker :Workerd.Worker = (
  modules = [(name = "worker", esModule = embed "echo.js")],
  compatibilityDate = "2024-09-23",
);

const counterWorker :Workerd.Worker = (
  modules = [(name = "worker", esModule = embed "counter.js")],
  compatibilityDate = "2024-09-23",
  durableObjectNamespaces = [(className = "Counter", uniqueKey = "wisp-bench-counter")],
  durableObjectStorage = (inMemory = void),
  bindings = [(name = "COUNTER", durableObjectNamespace = "Counter")],
);
