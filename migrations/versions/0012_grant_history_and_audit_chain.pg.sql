-- a grant is inserted open, after every earlier grant of the same role ended
CREATE FUNCTION jz_grant_open() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
BEGIN
  IF NEW.revoked_at IS NOT NULL OR NEW.revoked_by IS NOT NULL
     OR EXISTS (SELECT 1 FROM role_grant g
        WHERE g.entity_id = NEW.entity_id AND g.user_id = NEW.user_id AND g.role = NEW.role
        AND (g.revoked_at IS NULL OR g.revoked_at > NEW.granted_at
             OR g.granted_at >= NEW.granted_at)) THEN
    RAISE EXCEPTION 'juzhang: a grant starts open, after the earlier grants of the role ended' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $fn$
------
CREATE TRIGGER jz_grant_open BEFORE INSERT ON role_grant FOR EACH ROW EXECUTE FUNCTION jz_grant_open()
------
-- the cash count of a closed month never changes (inserts: jz_cash_count_insert, 0003)
CREATE FUNCTION jz_cash_count_closed() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM period p WHERE p.entity_id = OLD.entity_id
             AND p.period = OLD.period AND p.status = 'closed')
     OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM period p WHERE p.entity_id = NEW.entity_id
             AND p.period = NEW.period AND p.status = 'closed')) THEN
    RAISE EXCEPTION 'juzhang: the period is closed: its cash counts never change' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN (CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
END $fn$
------
CREATE TRIGGER jz_cash_count_closed BEFORE UPDATE OR DELETE ON cash_count FOR EACH ROW EXECUTE FUNCTION jz_cash_count_closed()
------
-- posting: the voucher's people held their roles when they acted, and none of
-- them ever held the entity's cashier role; the month-end machine vouchers
-- (closing, and the reversal of one) are prepared and posted by the system user.
-- Once per statement over its new rows, as 0007's checks (every row now posted
-- was posted by the statement: a posted voucher is never updated); each
-- look-up goes by role_grant's primary key.
CREATE FUNCTION jz_voucher_people() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, @SCHEMA@, pg_temp AS $fn$
DECLARE
  bad boolean;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM n WHERE status = 'posted') THEN
    RETURN NULL;
  END IF;
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM n WHERE n.status = 'posted'
      AND EXISTS (SELECT 1 FROM role_grant g WHERE g.entity_id = n.entity_id
                  AND g.user_id IN (n.prepared_by, n.reviewed_by, n.posted_by)
                  AND g.role = 'cashier'))$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: 钱账分离 the cashier of the entity may not prepare, review or post its vouchers' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM n, LATERAL (
          SELECT COALESCE((SELECT u.id FROM app_user u WHERE u.login = 'system'), -1) AS system) s
      WHERE n.status = 'posted' AND (
        NOT EXISTS (SELECT 1 FROM role_grant g WHERE g.entity_id = n.entity_id
              AND g.user_id = n.reviewed_by AND g.role = 'reviewer'
              AND g.granted_at <= n.reviewed_at
              AND (g.revoked_at IS NULL OR g.revoked_at >= n.reviewed_at))
        OR NOT (EXISTS (SELECT 1 FROM role_grant g WHERE g.entity_id = n.entity_id
              AND g.user_id = n.prepared_by AND g.role = 'bookkeeper'
              AND g.granted_at <= n.prepared_at
              AND (g.revoked_at IS NULL OR g.revoked_at >= n.prepared_at))
            OR (n.kind IN ('closing', 'reversal') AND n.prepared_by = s.system))
        OR NOT (EXISTS (SELECT 1 FROM role_grant g WHERE g.entity_id = n.entity_id
              AND g.user_id = n.posted_by AND g.role = 'bookkeeper'
              AND g.granted_at <= n.posted_at
              AND (g.revoked_at IS NULL OR g.revoked_at >= n.posted_at))
            OR (n.kind IN ('closing', 'reversal') AND n.posted_by = s.system))))$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: the preparer, reviewer and poster must hold their roles when they act' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $fn$
------
CREATE TRIGGER jz_voucher_people AFTER UPDATE ON voucher REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION jz_voucher_people()
