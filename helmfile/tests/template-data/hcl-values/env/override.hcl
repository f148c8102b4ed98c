locals {
  app = "override"
}

values {
  shared       = { both = "override", fromOverride = local.app }
  class        = null
  tags         = ["t3"]
  overrideOnly = "set by ${local.app}"
  crossFile    = "${hv.name} uses ${hv.version}"
}
