module github.com/relkit/relkit

go 1.24.0

require github.com/caarlos0/env/v10 v10.0.0

require github.com/lmittmann/tint v1.2.1
