values {
  base = "hcl"
  fromDefaults = "defaults-${hv.base}"
  count = 10
}
