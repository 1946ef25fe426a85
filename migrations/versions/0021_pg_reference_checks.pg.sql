-- The rows of one statement (a COPY of a chunk, one UPDATE posting it) that
-- name reference rows (a community, an account, a person, an import batch):
-- each distinct key is looked up once and locked FOR KEY SHARE, as a
-- foreign key locks it once per row.  TG_ARGV: the referenced table, its key
-- columns, then one or more sets of referencing columns (same arity), every
-- set of a row checked.  On UPDATE (of a voucher: review and posting name
-- their people) only the keys the statement brought in (in NEW TABLE n and
-- not in OLD TABLE o) are checked, as a foreign key checks an update only
-- when its key changed.
CREATE FUNCTION jz_refs() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
DECLARE
  keys text;
  cond text;
  wanted bigint;
  found bigint;
BEGIN
  SELECT string_agg(format('SELECT DISTINCT %s FROM n WHERE %s', cols,
           (SELECT string_agg(format('%I IS NOT NULL', btrim(c)), ' AND ')
              FROM unnest(string_to_array(cols, ',')) c)), ' UNION ')
    INTO keys FROM unnest(TG_ARGV[2:]) cols;
  IF TG_OP = 'UPDATE' THEN
    SELECT format('SELECT * FROM (%s) k EXCEPT (%s)', keys, string_agg(format('SELECT %s FROM o', cols), ' UNION ALL '))
      INTO keys FROM unnest(TG_ARGV[2:]) cols;
  END IF;
  -- each key looked up by the referenced table's key (a LATERAL probe: a
  -- semi-join would read the whole reference table when it is small or
  -- without statistics), the row found locked as a foreign key locks it
  SELECT string_agg(format('r.%I = k.%I', btrim(refkey[j]), btrim(col[j])), ' AND ')
    INTO cond
    FROM (SELECT string_to_array(TG_ARGV[1], ',') AS refkey, string_to_array(TG_ARGV[2], ',') AS col) a,
         generate_subscripts(a.refkey, 1) j;
  EXECUTE format('SELECT count(*), count(x.one) FROM (%s) k LEFT JOIN LATERAL'
      ' (SELECT 1 AS one FROM %I r WHERE %s FOR KEY SHARE OF r) x ON true',
      keys, TG_ARGV[0], cond) INTO wanted, found;
  IF wanted <> found THEN
    RAISE EXCEPTION 'juzhang: foreign key: % (%) names no row of % (%)',
        TG_TABLE_NAME, array_to_string(TG_ARGV[2:], ' / '), TG_ARGV[0], TG_ARGV[1]
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $fn$
------
-- One row whose references an UPDATE changed (a row trigger WHEN they
-- changed: the services never change them in these tables, and a statement
-- trigger would keep every updated row's old and new versions to look at).
-- TG_ARGV as for jz_refs.
CREATE FUNCTION jz_ref_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
DECLARE
  keys text[] := string_to_array(TG_ARGV[1], ',');
  cols text[];
  vals text;
  cond text;
  missing boolean;
  found boolean;
BEGIN
  FOR i IN 2 .. TG_NARGS - 1 LOOP
    cols := string_to_array(TG_ARGV[i], ',');
    SELECT string_agg(format('($1).%I', btrim(c)), ', ') INTO vals FROM unnest(cols) c;
    SELECT string_agg(format('r.%I = ($1).%I', btrim(keys[j]), btrim(cols[j])), ' AND ')
      INTO cond FROM generate_subscripts(cols, 1) j;
    EXECUTE format('SELECT num_nulls(%s) > 0', vals) INTO missing USING NEW;
    CONTINUE WHEN missing;
    found := NULL;
    EXECUTE format('SELECT true FROM %I r WHERE %s FOR KEY SHARE OF r', TG_ARGV[0], cond) INTO found USING NEW;
    IF found IS NULL THEN
      RAISE EXCEPTION 'juzhang: foreign key: % (%) names no row of % (%)',
          TG_TABLE_NAME, TG_ARGV[i], TG_ARGV[0], TG_ARGV[1]
        USING ERRCODE = 'foreign_key_violation';
    END IF;
  END LOOP;
  RETURN NULL;
END $fn$
------
-- A reference row deleted, or its key changed, while rows of the book
-- tables name it: refused, as the foreign key's NO ACTION refused it.
-- TG_ARGV: the row's key columns, then pairs (referencing table, its
-- referencing columns).  Only under READ COMMITTED: there each query sees
-- what other transactions committed before it, and an insert that named
-- the row (and locked it FOR KEY SHARE) has committed before this delete
-- could lock the row; under a transaction-wide snapshot it would not be
-- seen, where PostgreSQL's own foreign keys check against a fresh one.
CREATE FUNCTION jz_still_named() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
DECLARE
  keys text[] := string_to_array(TG_ARGV[0], ',');
  cols text[];
  cond text;
  named boolean;
  i int := 1;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'juzhang: a row of % is deleted or its key changed only under READ COMMITTED', TG_TABLE_NAME
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  WHILE i < TG_NARGS LOOP
    cols := string_to_array(TG_ARGV[i + 1], ',');
    SELECT string_agg(format('%I = ($1).%I', btrim(cols[j]), btrim(keys[j])), ' AND ')
      INTO cond FROM generate_subscripts(cols, 1) j;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %s)', TG_ARGV[i], cond) INTO named USING OLD;
    IF named THEN
      RAISE EXCEPTION 'juzhang: foreign key: rows of % (%) still name this row of % (%)',
          TG_ARGV[i], TG_ARGV[i + 1], TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'foreign_key_violation';
    END IF;
    i := i + 2;
  END LOOP;
  RETURN NULL;
END $fn$
