# go-cty-funcs cidr functions (IPv4 and IPv6).
values {
  cidr = {
    host     = cidrhost("10.0.0.0/8", 2)
    host_neg = cidrhost("10.0.0.0/8", -2)
    host6    = cidrhost("fd00::/64", 5)
    netmask  = cidrnetmask("10.0.0.0/16")
    subnet   = cidrsubnet("10.0.0.0/8", 8, 2)
    subnet6  = cidrsubnet("fd00::/56", 8, 3)
    subnets  = cidrsubnets("10.0.0.0/8", 4, 4)
    mixed    = cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)
    unaligned = cidrsubnet("10.1.2.3/16", 8, 1)
  }
}
