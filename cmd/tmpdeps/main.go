package main
import (
	_ "github.com/go-chi/chi/v5"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/golang-jwt/jwt/v5"
	_ "golang.org/x/crypto/bcrypt"
	_ "github.com/xuri/excelize/v2"
	_ "github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	_ "github.com/golang-migrate/migrate/v4/source/iofs"
	_ "github.com/caarlos0/env/v11"
	_ "github.com/peterldowns/pgtestdb"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/joho/godotenv"
	_ "github.com/google/uuid"
)
func main(){}
