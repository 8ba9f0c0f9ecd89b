CREATE TABLE links (
    code VARCHAR(32) NOT NULL PRIMARY KEY,
    url VARCHAR(2048) NOT NULL,
    created_unix BIGINT NOT NULL
);
CREATE INDEX links_created ON links (created_unix);
