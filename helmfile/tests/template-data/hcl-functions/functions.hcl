locals {
  cfg = { a = 1 }
}
values {
  a = try(local.cfg.b, "fallback")
  b = can(local.cfg.b)
  c = can(local.cfg.a)
  d = try(local.cfg.a, 2)
  e = [for k in ["a", "b"] : try(local.cfg[k], 0)]
  f = format("%s-%d-%v-%q-%t-%.2f-%5d|%-4s|%x %% %05d %+d %e %#v", "a", 3, [1, "x"], "q", true, 3.14159, 42, "ab", 255, -42, 5, 1234.5, {a = "b"})
  g = formatlist("%s=%d", ["a", "b"], [1, 2])
  g2 = formatlist("%s-x", ["a", "b"])
  r = regex("[a-z]+", "123abc456")
  r2 = regex("(\\d+)-(\\d+)", "10-20")
  r3 = regex("(?P<k>\\w+)=(?P<v>\\w+)", "key=val")
  ra = regexall("\\d", "a1b2")
  ra2 = regexall("(\\w)(\\d)", "a1b2")
  su = setunion(["b", "a"], ["c", "a"])
  si = setintersection(["a", "b"], ["b", "c"])
  ss = setsubtract(["a", "b", "c"], ["b"])
  sp = setproduct(["a", "b"], [1, 2])
  sn = setunion([3, 1], [2, 10])
  csv = csvdecode("a,b\n1,2\n3,4")
}
