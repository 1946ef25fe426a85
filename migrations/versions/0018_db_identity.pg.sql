-- Who is connected (issue 16).  @NS@ is the namespace of this store's roles
-- (the schema's name, or the database's for the public schema), @OWNER@ the
-- role that ran the migration (the owner: it bypasses row-level security and
-- is the operator of last resort).
--
-- the database role acting now: the role of SET [LOCAL] ROLE, else the login.
-- Read inside a SECURITY DEFINER function too: the "role" setting is not
-- changed by entering one, while current_user is.
CREATE FUNCTION jz_db_role() RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
  SELECT CASE WHEN pg_catalog.current_setting('role') = 'none' THEN session_user::text
              ELSE pg_catalog.current_setting('role') END
$fn$
------
-- the namespace of this store's roles ("<namespace>.cashier", "<namespace>.<login>")
CREATE FUNCTION jz_namespace() RETURNS text LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
  SELECT '@NS_LITERAL@'::text
$fn$
------
-- the juzhang login of the person connected, NULL for the owner or any other role
CREATE FUNCTION jz_actor() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
  SELECT u.login FROM app_user u WHERE u.db_role = jz_db_role()
$fn$
------
-- an operator: the owner, or a person made a member of "<namespace>.operator"
CREATE FUNCTION jz_is_operator() RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
  SELECT pg_catalog.pg_has_role(jz_db_role(), '@OWNER_LITERAL@', 'MEMBER')
      OR pg_catalog.pg_has_role(jz_db_role(), '@NS_LITERAL@.operator', 'MEMBER')
$fn$
------
-- the entities where the person connected holds an open grant of one of
-- `duties` (NULL: any duty); an operator reads every entity and the agency (0)
CREATE FUNCTION jz_entities(duties text[]) RETURNS SETOF integer LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
  SELECT g.entity_id FROM role_grant g JOIN app_user u ON u.id = g.user_id
   WHERE u.db_role = jz_db_role() AND g.revoked_at IS NULL
     AND (duties IS NULL OR g.role = ANY (duties))
  UNION
  SELECT e.id FROM entity e WHERE duties IS NULL AND jz_is_operator()
  UNION
  SELECT 0 WHERE duties IS NULL AND jz_is_operator()
$fn$
------
-- the person's membership of the duty roles follows their open grants
-- (a member of "<namespace>.cashier" while they hold cashier for some entity)
CREATE FUNCTION jz_sync_login(person text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
DECLARE
  duty text;
  should boolean;
  member boolean;
BEGIN
  FOREACH duty IN ARRAY ARRAY['cashier', 'bookkeeper', 'reviewer', 'supervisor', 'admin'] LOOP
    SELECT EXISTS (SELECT 1 FROM role_grant g JOIN app_user u ON u.id = g.user_id
                   WHERE u.db_role = person AND g.role = duty AND g.revoked_at IS NULL) INTO should;
    SELECT EXISTS (SELECT 1 FROM pg_auth_members m
                   WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = '@NS_LITERAL@.' || duty)
                     AND m.member = (SELECT oid FROM pg_roles WHERE rolname = person)) INTO member;
    IF should AND NOT member THEN
      EXECUTE format('GRANT %I TO %I', '@NS_LITERAL@.' || duty, person);
    ELSIF member AND NOT should THEN
      EXECUTE format('REVOKE %I FROM %I', '@NS_LITERAL@.' || duty, person);
    END IF;
  END LOOP;
END $fn$
------
-- a grant or a revocation moves the person's database membership in the same transaction
CREATE FUNCTION jz_grant_sync() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
DECLARE
  person text;
BEGIN
  SELECT u.db_role INTO person FROM app_user u WHERE u.id = NEW.user_id;
  IF person IS NOT NULL THEN
    PERFORM jz_sync_login(person);
  END IF;
  RETURN NULL;
END $fn$
------
CREATE TRIGGER jz_grant_sync AFTER INSERT OR UPDATE ON role_grant FOR EACH ROW EXECUTE FUNCTION jz_grant_sync()
------
-- `juzhang user add LOGIN NAME --db-login`: a LOGIN role "<namespace>.<login>"
-- for an existing user, a member of "<namespace>.person" (what every person may
-- do), of the duty roles its grants give, and given to "<namespace>.service"
-- (so a pooled service login may SET ROLE to it).  No password: the agency
-- sets authentication in PostgreSQL (pg_hba.conf, SCRAM, certificates).
CREATE FUNCTION jz_create_login(p_login text, p_operator boolean) RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
DECLARE
  person text;
BEGIN
  IF NOT jz_is_operator() THEN
    RAISE EXCEPTION 'juzhang: only an operator creates database logins (% is not one)', jz_db_role() USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF p_login IS NULL OR p_login !~ '^[a-z][a-z0-9_]{0,31}$' THEN
    RAISE EXCEPTION 'juzhang: a database login is a lower-case letter, then up to 31 letters, digits or _ (not %)', p_login USING ERRCODE = 'invalid_parameter_value';
  END IF;
  person := '@NS_LITERAL@.' || p_login;
  IF NOT EXISTS (SELECT 1 FROM app_user WHERE login = p_login) THEN
    RAISE EXCEPTION 'juzhang: no user %', p_login USING ERRCODE = 'no_data_found';
  END IF;
  IF EXISTS (SELECT 1 FROM app_user WHERE login = p_login AND db_role IS NOT NULL) THEN
    RAISE EXCEPTION 'juzhang: % has a database login already', p_login USING ERRCODE = 'unique_violation';
  END IF;
  EXECUTE format('CREATE ROLE %I LOGIN INHERIT IN ROLE %I', person, '@NS_LITERAL@.person');
  EXECUTE format('GRANT %I TO %I', person, '@NS_LITERAL@.service');
  IF p_operator THEN
    EXECUTE format('GRANT %I TO %I', '@NS_LITERAL@.operator', person);
  END IF;
  UPDATE app_user SET db_role = person WHERE login = p_login;
  PERFORM jz_sync_login(person);
  RETURN person;
END $fn$
------
-- the person connected may write only as themselves: each named column of a
-- new or changed row holds the person's login or user id (or is unchanged);
-- the month-end machine vouchers name the system user as preparer and poster
CREATE FUNCTION jz_identity() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
DECLARE
  me_login text;
  me_id text;
  system_id text;
  col text;
  val text;
  row_new jsonb := to_jsonb(NEW);
BEGIN
  SELECT u.login, u.id::text INTO me_login, me_id FROM app_user u WHERE u.db_role = jz_db_role();
  IF me_login IS NULL THEN
    RETURN NEW;
  END IF;
  SELECT u.id::text INTO system_id FROM app_user u WHERE u.login = 'system';
  FOREACH col IN ARRAY TG_ARGV LOOP
    val := row_new ->> col;
    CONTINUE WHEN val IS NULL OR val = me_login OR val = me_id;
    CONTINUE WHEN TG_OP = 'UPDATE' AND val IS NOT DISTINCT FROM (to_jsonb(OLD) ->> col);
    CONTINUE WHEN TG_TABLE_NAME = 'voucher' AND col IN ('prepared_by', 'posted_by')
                  AND val = system_id AND row_new ->> 'kind' IN ('closing', 'reversal');
    RAISE EXCEPTION 'juzhang: connected as % (%): %.% may not name %', me_login, jz_db_role(), TG_TABLE_NAME, col, val USING ERRCODE = 'insufficient_privilege';
  END LOOP;
  RETURN NEW;
END $fn$
