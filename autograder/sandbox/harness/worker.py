"""The sandboxed worker: runs a student's notebook cells and serves calls into them.

It runs inside the sandbox (see ``launcher.py``) with no access to graders, reference
solutions or the gradebook. It only ever answers requests from the grader:

    exec_cell   run one code cell in the student namespace
    names       which names the notebook defined (to spot a renamed function)
    call        call a function, class or method with data arguments
    ref         a handle to a name in the student namespace (e.g. a provided initializer)
    getattr     read an attribute of a remote object
    setattr     set an attribute of a remote object (e.g. a model's params)
    describe    summarise a Keras model layer by layer (data only)
    release     forget objects the grader is done with, or all of them (their memory can go)
    fill_weights  give a model the grader's weights for a list of shapes (``weights.py``), made here

Every value it sends back goes through ``wire`` (data only). Anything the student's
code does in here (patching numpy, faking output, lying) can only change the data it
sends back, which the grader then checks in its own process.
"""

from __future__ import annotations

import gc
import io
import os
import re
import sys
import traceback
from typing import Any

# Run as a script with `python -I`: put the harness (for `wire`) and the assignment
# folder (the working directory, for its helper modules) on the path, as Jupyter would.
sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), os.getcwd()]
import weights  # noqa: E402
import wire  # noqa: E402

_MAGIC = re.compile(r"^\s*[%!]")
_isinstance = isinstance  # bound before any student code can replace builtins.isinstance


class Worker:
    def __init__(self, proto_in: int, proto_out: int):
        self.reader = wire.FrameReader(proto_in)
        self.out = proto_out
        self.ns: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
        self.objects: dict[int, Any] = {}

    # --- plumbing ---------------------------------------------------------------------

    def send(self, message: dict) -> None:
        wire.write_frame(self.out, wire.encode_frame(message, register=self.register))

    def receive(self) -> dict:
        return wire.decode_payload(self.reader.read(), resolve=self.resolve)

    def register(self, obj: Any, encoder: Any) -> Any:
        """Send tensors as arrays; keep any other object here and send a handle instead."""
        if type(obj).__name__.endswith("Tensor") and callable(getattr(obj, "numpy", None)):
            value = obj.numpy()  # a TensorFlow eager tensor (or anything claiming to be one)
            if type(value) is not type(obj):
                return encoder.value(value)
        self.objects[id(obj)] = obj
        try:
            text = repr(obj)[:200]
        except BaseException:  # a hostile __repr__ must not kill the reply
            text = "<unprintable>"
        kind = type(obj)
        return {"$": "ref", "id": id(obj), "type": f"{kind.__module__}.{kind.__qualname__}", "repr": text}

    def resolve(self, ref: wire.RemoteRef) -> Any:
        if ref.id not in self.objects:
            raise wire.WireError("unknown object handle")
        return self.objects[ref.id]

    # --- requests ---------------------------------------------------------------------

    def serve(self) -> None:
        self.send({"op": "ready", "pid": os.getpid()})
        while True:
            try:
                request = self.receive()
            except wire.StreamClosed:
                return
            handler = getattr(self, "op_" + str(request.get("op")), None)
            if handler is None:
                self.send({"ok": False, "error": {"type": "ProtocolError", "message": "unknown op"}})
                continue
            try:
                reply = handler(request)
            except BaseException as e:  # SystemExit, KeyboardInterrupt too: report, keep serving
                reply = {"ok": False, "error": describe_error(e)}
            try:
                self.send(reply)
            except wire.WireError as e:
                self.send({"ok": False, "error": {"type": "UnsendableResult", "message": str(e)}})

    def op_exec_cell(self, request: dict) -> dict:
        source = "\n".join(
            "pass  # IPython magic removed by the grader" if _MAGIC.match(line) else line
            for line in str(request["source"]).splitlines()
        )
        code = compile(source, f"<cell {request.get('index')}>", "exec")
        exec(code, self.ns)  # noqa: S102 - running the student's cell is the point
        return {"ok": True}

    def op_names(self, request: dict) -> dict:
        found = {}
        for name, value in list(self.ns.items()):
            if name.startswith("_") or name == "In":
                continue
            kind = "class" if isinstance(value, type) else "function" if callable(value) else "value"
            found[name] = kind
        return {"ok": True, "names": found}

    def op_call(self, request: dict) -> dict:
        target = self.lookup(request)
        args, kwargs = request.get("args", []), request.get("kwargs", {})
        patched = self.isolate(request.get("isolate", []))
        try:
            value = target(*args, **kwargs)
        finally:
            self.ns.update(patched)
        reply = {"ok": True, "value": value}
        if request.get("return_args"):
            reply["args"], reply["kwargs"] = args, kwargs
        return reply

    def op_ref(self, request: dict) -> dict:
        return {"ok": True, "value": self.lookup({"name": request["name"]})}

    def op_getattr(self, request: dict) -> dict:
        obj = self.resolve(wire.RemoteRef(int(request["handle"]), ""))
        return {"ok": True, "value": getattr(obj, str(request["name"]))}

    def op_setattr(self, request: dict) -> dict:
        obj = self.resolve(wire.RemoteRef(int(request["handle"]), ""))
        setattr(obj, str(request["name"]), request.get("value"))
        return {"ok": True}

    def op_describe(self, request: dict) -> dict:
        obj = self.resolve(wire.RemoteRef(int(request["handle"]), ""))
        return {"ok": True, "value": describe_model(obj)}

    def op_release(self, request: dict) -> dict:
        if request.get("all"):
            self.objects.clear()
        for handle in request.get("ids", []):
            self.objects.pop(int(handle), None)
        if request.get("collect"):  # a Keras model is a web of cycles: free it now, not at a later collection
            gc.collect()
        return {"ok": True}

    def op_fill_weights(self, request: dict) -> dict:
        """``set_weights`` with ``weights.same_weights(shapes)``; if the model refuses them (another
        order), each variable gets the values for its own shape, where the shapes agree as a multiset.
        Otherwise the reply lists the shapes the model holds (for the grader's message only)."""
        obj = self.resolve(wire.RemoteRef(int(request["handle"]), ""))
        shapes = [tuple(int(n) for n in shape) for shape in request["shapes"]]
        values = weights.same_weights(shapes, int(request.get("salt", 0)))
        try:
            obj.set_weights(values)
            return {"ok": True, "filled": True}
        except Exception:  # noqa: BLE001 - another order or other shapes: look at the variables
            pass
        variables = list(obj.weights)
        own = [tuple(int(n) for n in v.shape) for v in variables]
        if sorted(own) != sorted(shapes):
            return {"ok": True, "filled": False, "shapes": [list(s) for s in own[:100_000]]}
        by_shape = dict(zip(shapes, values, strict=True))
        for variable, shape in zip(variables, own, strict=True):
            variable.assign(by_shape[shape])
        return {"ok": True, "filled": True}

    # --- helpers ----------------------------------------------------------------------

    def lookup(self, request: dict) -> Any:
        if "handle" in request:
            obj = self.resolve(wire.RemoteRef(int(request["handle"]), ""))
            method = request.get("method")
            return getattr(obj, str(method)) if method else obj
        name = str(request["name"])
        if name not in self.ns:
            raise NameError(f"name {name!r} is not defined")
        return self.ns[name]

    def isolate(self, names: list) -> dict:
        """Swap other graded functions for grader callbacks; return what to restore.

        A function that calls another graded function (conv_forward -> zero_pad) is
        then graded on its own code only: the helper's answer comes from the grader.
        """
        saved = {}
        for name in names:
            name = str(name)
            saved[name] = self.ns.get(name)
            self.ns[name] = self.callback(name)
        return saved

    def callback(self, name: str) -> Any:
        def grader_helper(*args: Any, **kwargs: Any) -> Any:
            self.send({"op": "callback", "name": name, "args": list(args), "kwargs": kwargs})
            reply = self.receive()
            if not reply.get("ok"):
                raise ValueError(f"{name}() (provided by the grader) rejected its arguments: {reply.get('message')}")
            return reply.get("value")

        grader_helper.__name__ = grader_helper.__qualname__ = name
        return grader_helper


def describe_error(e: BaseException) -> dict:
    """Summarise an exception from student code: type, message and where it happened."""
    where = ""
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        if frame.filename.startswith("<cell"):
            where = f"line {frame.lineno} of {frame.filename[1:-1]}, in {frame.name}"
            break
    try:
        message = str(e)[:500]
    except BaseException:
        message = "<unprintable message>"
    return {
        "type": type(e).__name__,
        "message": message,
        "where": where,
        "not_implemented": _isinstance(e, NotImplementedError),
        "exit": _isinstance(e, SystemExit),
    }


def describe_model(model: Any) -> list:
    """One dict per layer of a Keras model: class, output shape, parameters and config."""
    rows = []
    for layer in getattr(model, "layers", []):
        config = {}
        for key in ("filters", "kernel_size", "strides", "padding", "pool_size", "units", "activation", "axis"):
            value = getattr(layer, key, None)
            if value is not None:
                config[key] = value if isinstance(value, (int, str, tuple, list)) else str(value)
        try:
            shape = tuple(layer.output.shape)
        except Exception:
            shape = None
        rows.append(
            {
                "class": type(layer).__name__,
                "name": layer.name,
                "output_shape": shape,
                "params": int(layer.count_params()) if layer.built else 0,
                "trainable": int(sum(int(w.numpy().size) for w in layer.trainable_weights)),
                "config": config,
            }
        )
    return rows


def main() -> None:
    # Keep the protocol pipes on private descriptors, then point fd 0 at /dev/null
    # and fd 1 at the capture pipe (fd 2), so print() can never look like a reply.
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdin = io.TextIOWrapper(open(0, "rb", closefd=False))
    sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), line_buffering=True)
    Worker(proto_in, proto_out).serve()


if __name__ == "__main__":
    main()
