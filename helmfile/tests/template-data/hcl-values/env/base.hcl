locals {
  app    = "shop"
  prefix = "${local.app}-svc"
}

values {
  name     = local.prefix
  replicas = 2
  image    = "${hv.registry}/${local.app}:${hv.version}"
  version  = "1.2.3"
  registry = "registry.example.com"

  numbers = {
    int   = 3
    float = 1.5
    neg   = -7
    third = 1 / 3
    big   = 100000000000000000000000
    sum   = 2 + 2 * 3
    mod   = 7 % 4
    div   = 10 / 4
    str   = "4" + 1
  }
  flags = {
    on    = true
    off   = !true
    cmp   = 1 < 2 && 2 >= 3 || "a" != "b"
    nothing = null
  }
  list   = [1, "two", true, null, [3], { four = 4 }]
  nested = { a = { b = [1, { c = "deep" }] } }
  deep   = hv.nested.a.b[1].c
  quoted = { "with-dash" = 1, "with space" = 2 }

  tier   = hv.replicas > 1 ? "ha" : "single"
  mixed  = true ? 1 : "one"
  banner = "%{if hv.replicas > 1}replicated%{else}single%{endif} x${hv.replicas}"
  joined = "%{for i, p in hv.ports}${i}:${p}%{if i < length(hv.ports) - 1},%{endif}%{endfor}"
  ports  = [80, 443]
  doubled = [for p in hv.ports : p * 2]
  byname  = { for p in hv.ports : "port-${p}" => p }
  evens   = [for n in range(10) : n if n % 2 == 0]
  grouped = { for s in ["ab", "ac", "bd"] : substr(s, 0, 1) => s... }
  splat   = [{ n = 1 }, { n = 2 }][*].n
  escapes = "tab\tquote\" dollar $${x} percent %%{y} \u00e9"
  heredoc = <<EOT
name: ${hv.name}
  kept indent
EOT
  indented = <<-EOT
    stripped
      relative
    EOT

  strings = {
    upper   = upper(local.app)
    lower   = lower("MiXeD")
    title   = title("hello world")
    trimmed = trimspace("  x  ")
    trim    = trim("--x--", "-")
    tp      = trimprefix("v1.2", "v")
    ts      = trimsuffix("file.yaml", ".yaml")
    join    = join("-", ["a", "b"], ["c"])
    split   = split(",", "a,b,c")
    len     = strlen("héllo")
    rev     = strrev("abc")
    sub     = substr("hello", 1, 3)
    indent  = indent(2, "a\nb")
    chomp   = chomp("line\n\n")
    json    = jsonencode({ b = [1, 2.5], a = "x" })
  }
  math = [abs(-3), ceil(1.2), floor(1.8), max(1, 5, 3), min(4, 2), pow(2, 10), signum(-5), parseint("ff", 16), int(3.7), log(8, 2)]
  collections = {
    concat   = concat([1], [2, 3])
    contains = contains(["a"], "a")
    distinct = distinct([1, 1, 2])
    element  = element(["a", "b"], 3)
    flatten  = flatten([[1, [2]], 3])
    keys     = keys({ b = 1, a = 2 })
    values   = values({ b = 1, a = 2 })
    lookup   = lookup({ a = 1 }, "b", "default")
    reverse  = reverselist([1, 2])
    slice    = slice([1, 2, 3], 1, 3)
    sort     = sort(["b", "a"])
    zipmap   = zipmap(["x", "y"], [1, 2])
    coalesce = coalesce(null, "first")
    compact  = compact(["a", "", "b"])
    chunks   = chunklist([1, 2, 3], 2)
    length   = length([1, 2, 3])
    decoded  = jsondecode("{\"a\": [1, 2.5, null, true]}")
    merged   = merge({ a = 1, b = { c = 2 } }, { b = { d = 3 } })
  }

  shared = { fromBase = "base", both = "base" }
  class  = "standard"
  tags   = ["t1", "t2"]
  fromOverride = hv.overrideOnly
  overrideOnly = "unset"
}

values {
  second = "second block of ${hv.name}"
}
