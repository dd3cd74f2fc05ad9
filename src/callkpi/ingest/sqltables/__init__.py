"""The PBX's SQL tables (cdr, cel, queue_log): read from a mysqldump/Navicat dump file or from a live
MySQL/MariaDB or PostgreSQL server, written to spool CSV files and loaded by the file importers."""
