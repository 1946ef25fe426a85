CREATE TRIGGER jz_voucher_post AFTER UPDATE OF status ON voucher
    WHEN NEW.status = 'posted'
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: the voucher does not balance')
        WHERE (SELECT COALESCE(SUM(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END), 0)
               FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id) <> 0
           OR (SELECT COUNT(*) FROM voucher_line
               WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id) < 2;
      SELECT RAISE(ABORT, 'juzhang: voucher numbers must run without gaps')
        WHERE NEW.number > 1 AND NOT EXISTS (SELECT 1 FROM voucher
              WHERE entity_id = NEW.entity_id AND period = NEW.period
              AND number = NEW.number - 1 AND status = 'posted');
      SELECT RAISE(ABORT, 'juzhang: the opening balances do not balance')
        WHERE (SELECT COALESCE(SUM(amount_fen), 0) FROM opening_balance
               WHERE entity_id = NEW.entity_id) <> 0;
      SELECT RAISE(ABORT, 'juzhang: a custody-account line is not backed by a custody entry')
        WHERE EXISTS (SELECT 1 FROM voucher_line l JOIN account a
              ON a.entity_id = l.entity_id AND a.code = l.account_code
              WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id
              AND a.custody IS NOT NULL AND COALESCE(l.custody_entry_id, 0) = 0);
      SELECT RAISE(ABORT, 'juzhang: custody entry and voucher lines disagree or back twice')
        WHERE EXISTS (SELECT 1 FROM voucher_line l JOIN custody_entry c
              ON c.entity_id = l.entity_id AND c.id = l.custody_entry_id
              WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id
              AND ((CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
                   <> (CASE NEW.kind WHEN 'reversal' THEN -c.amount_fen ELSE c.amount_fen END)
              OR (SELECT SUM(CASE l2.side WHEN 'D' THEN l2.amount_fen ELSE -l2.amount_fen END)
                   FROM voucher_line l2 JOIN voucher v2
                   ON v2.entity_id = l2.entity_id AND v2.id = l2.voucher_id
                   WHERE l2.entity_id = l.entity_id
                   AND l2.custody_entry_id = l.custody_entry_id
                   AND v2.status = 'posted') NOT IN (0, c.amount_fen)));
      INSERT INTO account_balance (entity_id, account_code, period, debit_fen, credit_fen)
        SELECT NEW.entity_id, account_code, NEW.period,
               SUM(CASE side WHEN 'D' THEN amount_fen ELSE 0 END),
               SUM(CASE side WHEN 'C' THEN amount_fen ELSE 0 END)
        FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id
        AND line_no > 0 GROUP BY account_code
        ON CONFLICT (entity_id, account_code, period) DO UPDATE SET
          debit_fen = debit_fen + excluded.debit_fen,
          credit_fen = credit_fen + excluded.credit_fen;
    END
