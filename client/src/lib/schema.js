// The list document schema (mirror of server/schema.py; keep the two in step).
export const META = 'meta'
export const ITEMS = 'items'
export const ITEM_FIELDS = ['name', 'qty', 'unit', 'note', 'category', 'checked', 'checked_at',
  'order', 'created_at', 'updated_at', 'created_by', 'product']
export const CATEGORIES = ['produce', 'dairy', 'bakery', 'meat', 'fish', 'frozen', 'pantry',
  'drinks', 'snacks', 'household', 'personal_care', 'other']
export const NAME_MAX = 200
