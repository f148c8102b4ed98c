values {
  replicas = 4
  env      = "prod"
  image    = { repository = hv.registry, tag = hv.version }
}
