package depspin

import (
	_ "github.com/jackc/pgx/v5"
	_ "github.com/shopspring/decimal"
	_ "github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
	_ "pgregory.net/rapid"
)
