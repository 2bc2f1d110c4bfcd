/** Who is an admin for this bot: the holders of these directory roles (and the ids listed in ADMIN_USER_IDS). */

/** The directory roles that make their holders admins for this bot; their names are in the catalog (`admin:role.*`). */
export type AdminRole =
  | 'globalAdministrator'
  | 'privilegedRoleAdministrator'
  | 'applicationAdministrator'
  | 'cloudApplicationAdministrator'
  | 'userAdministrator'
  | 'groupsAdministrator';

/** Directory roles whose holders are admins for this bot: role template id → role (a key, never a name). */
export const ADMIN_ROLES: Readonly<Record<string, AdminRole>> = {
  '62e90394-69f5-4237-9190-012177145e10': 'globalAdministrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'privilegedRoleAdministrator',
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3': 'applicationAdministrator',
  '158c047a-c907-4556-b7ef-446551a6b5f7': 'cloudApplicationAdministrator',
  'fe930be7-5e62-47db-91af-98c3a49a38b1': 'userAdministrator',
  'fdd7a751-b60b-444a-984c-02652fe8fa1c': 'groupsAdministrator',
};
