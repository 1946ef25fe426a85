-- role_grant and audit_log are rebuilt by 0012 (a new primary key, a new
-- column): their triggers go with the old tables and are made again here.
-- 钱账分离 over the whole history of grants: a revoked grant still counts
CREATE TRIGGER jz_grant_separation BEFORE INSERT ON role_grant
    WHEN (NEW.role = 'cashier' AND EXISTS (SELECT 1 FROM role_grant g
            WHERE g.entity_id = NEW.entity_id AND g.user_id = NEW.user_id
            AND g.role IN ('bookkeeper', 'reviewer', 'admin')))
      OR (NEW.role IN ('bookkeeper', 'reviewer', 'admin') AND EXISTS (SELECT 1 FROM role_grant g
            WHERE g.entity_id = NEW.entity_id AND g.user_id = NEW.user_id
            AND g.role = 'cashier'))
    BEGIN SELECT RAISE(ABORT, 'juzhang: 钱账分离 a cashier may not hold a books-side role for the same entity (the history of grants shows the person held both sides)'); END
------
-- a grant is inserted open, after every earlier grant of the same role ended
CREATE TRIGGER jz_grant_open BEFORE INSERT ON role_grant
    WHEN NEW.revoked_at IS NOT NULL OR NEW.revoked_by IS NOT NULL
      OR EXISTS (SELECT 1 FROM role_grant g
            WHERE g.entity_id = NEW.entity_id AND g.user_id = NEW.user_id AND g.role = NEW.role
            AND (g.revoked_at IS NULL OR g.revoked_at > NEW.granted_at
                 OR g.granted_at >= NEW.granted_at))
    BEGIN SELECT RAISE(ABORT, 'juzhang: a grant starts open, after the earlier grants of the role ended'); END
------
-- the only change to a grant is its revocation: an open grant ends, once
CREATE TRIGGER jz_grant_no_update BEFORE UPDATE ON role_grant
    WHEN OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL OR NEW.revoked_by IS NULL
      OR NEW.entity_id <> OLD.entity_id OR NEW.user_id <> OLD.user_id OR NEW.role <> OLD.role
      OR NEW.granted_at <> OLD.granted_at OR NEW.revoked_at < OLD.granted_at
    BEGIN SELECT RAISE(ABORT, 'juzhang: role grants are never updated (a revocation only ends an open grant)'); END
------
CREATE TRIGGER jz_grant_no_delete BEFORE DELETE ON role_grant
    BEGIN SELECT RAISE(ABORT, 'juzhang: role grants are never deleted (a revocation ends a grant)'); END
------
-- the audit log is append-only
CREATE TRIGGER jz_audit_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'juzhang: the audit log is append-only'); END
------
CREATE TRIGGER jz_audit_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'juzhang: the audit log is append-only'); END
------
-- the cash count of a closed month never changes (inserts: jz_cash_count_insert, 0003)
CREATE TRIGGER jz_cash_count_update BEFORE UPDATE ON cash_count
    WHEN EXISTS (SELECT 1 FROM period p WHERE p.entity_id IN (OLD.entity_id, NEW.entity_id)
                 AND p.period IN (OLD.period, NEW.period) AND p.status = 'closed')
    BEGIN SELECT RAISE(ABORT, 'juzhang: the period is closed: its cash counts never change'); END
------
CREATE TRIGGER jz_cash_count_delete BEFORE DELETE ON cash_count
    WHEN EXISTS (SELECT 1 FROM period p WHERE p.entity_id = OLD.entity_id
                 AND p.period = OLD.period AND p.status = 'closed')
    BEGIN SELECT RAISE(ABORT, 'juzhang: the period is closed: its cash counts never change'); END
------
-- posting: the voucher's people held their roles when they acted, and none of
-- them ever held the entity's cashier role.  The month-end machine vouchers
-- (closing, and the reversal of one) are prepared and posted by the system user.
-- Each look-up goes by role_grant's primary key (entity, user, role, granted_at).
CREATE TRIGGER jz_voucher_people AFTER UPDATE OF status ON voucher
    WHEN NEW.status = 'posted'
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: 钱账分离 the cashier of the entity may not prepare, review or post its vouchers')
        WHERE EXISTS (SELECT 1 FROM role_grant g WHERE g.entity_id = NEW.entity_id
              AND g.user_id IN (NEW.prepared_by, NEW.reviewed_by, NEW.posted_by)
              AND g.role = 'cashier');
      SELECT RAISE(ABORT, 'juzhang: the preparer, reviewer and poster must hold their roles when they act')
        WHERE NOT EXISTS (SELECT 1 FROM role_grant g WHERE g.entity_id = NEW.entity_id
                  AND g.user_id = NEW.reviewed_by AND g.role = 'reviewer'
                  AND g.granted_at <= NEW.reviewed_at
                  AND (g.revoked_at IS NULL OR g.revoked_at >= NEW.reviewed_at))
           OR NOT (EXISTS (SELECT 1 FROM role_grant g WHERE g.entity_id = NEW.entity_id
                  AND g.user_id = NEW.prepared_by AND g.role = 'bookkeeper'
                  AND g.granted_at <= NEW.prepared_at
                  AND (g.revoked_at IS NULL OR g.revoked_at >= NEW.prepared_at))
                OR (NEW.kind IN ('closing', 'reversal') AND NEW.prepared_by =
                    COALESCE((SELECT u.id FROM app_user u WHERE u.login = 'system'), -1)))
           OR NOT (EXISTS (SELECT 1 FROM role_grant g WHERE g.entity_id = NEW.entity_id
                  AND g.user_id = NEW.posted_by AND g.role = 'bookkeeper'
                  AND g.granted_at <= NEW.posted_at
                  AND (g.revoked_at IS NULL OR g.revoked_at >= NEW.posted_at))
                OR (NEW.kind IN ('closing', 'reversal') AND NEW.posted_by =
                    COALESCE((SELECT u.id FROM app_user u WHERE u.login = 'system'), -1)));
    END
