import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A fact the module keeps about its own data, under a name: which key the stored visitor
 * digests are made with (see VisitorKeyCheck). An entity, so that hosts whose DataSource
 * builds its tables with `synchronize` get this one too.
 *
 * @publicApi
 */
@Entity('postback_meta')
export class PostbackMeta {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 255 })
  value: string;
}
